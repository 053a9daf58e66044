"""A commitment review re-scored below its rule's score and back: its award, the award's withdrawal and the
award again are rows of one chain, each linked (`corrects`) to the entry before it; this partial unique
index lets each entry of kind "review" be followed once, so the chain never forks (no second withdrawal,
no second award) — the ledger stays append-only, no row is edited."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("volunteers", "0006_points_ledger"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="pointsentry",
            constraint=models.UniqueConstraint(
                condition=models.Q(("source_kind", "review")),
                fields=("corrects",),
                name="pointsentry_review_chain_once",
            ),
        ),
    ]
