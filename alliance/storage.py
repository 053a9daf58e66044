"""Object storage for several machines: uploads, reports and job results in one private S3-compatible bucket
that every web and worker node reaches (settings: AWS_STORAGE_BUCKET_NAME and the rest)."""

from __future__ import annotations

from urllib.parse import urljoin

from django.conf import settings
from django.utils.encoding import filepath_to_uri
from storages.backends.s3 import S3Storage


class PrivateS3Storage(S3Storage):
    """A file's URL is the platform's own `/media/<name>`, as with the local folder: `alliance.media` checks
    that the user may see its object and then streams it from the bucket. A signed bucket URL in a page
    would work for anyone it is passed on to, and the bucket itself is never public."""

    def url(self, name: str, parameters=None, expire=None, http_method=None) -> str:
        return urljoin(settings.MEDIA_URL, filepath_to_uri(name))
