"""Staff screens of the projects app: projects with their claims, deciding on claims, activities with
their totals, and quarterly commitment reviews.

Access through `alliance.permissions` (community staff see and decide on their communities' projects);
every write through `projects.services`, every read through `projects.selectors`.

One module a concern: `common` (shorthands, filters), `inlines`, `forms`, `projects`, `claims` (with the
decision page), `activities` (with their totals), `reviews`. Importing them registers the admins."""

from __future__ import annotations

from .activities import ServiceActivityAdmin
from .claims import ProjectClaimAdmin
from .projects import ServiceProjectAdmin
from .reviews import CommitmentReviewAdmin

__all__ = ["CommitmentReviewAdmin", "ProjectClaimAdmin", "ServiceActivityAdmin", "ServiceProjectAdmin"]
