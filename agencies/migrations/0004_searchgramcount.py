from django.db import migrations, models


def count_existing(apps, schema_editor):
    """Fill the counts from the gram rows already indexed (one grouped INSERT)."""
    quote = schema_editor.connection.ops.quote_name
    token = quote(apps.get_model("agencies", "SearchToken")._meta.db_table)
    count = quote(apps.get_model("agencies", "SearchGramCount")._meta.db_table)
    schema_editor.execute(
        f"INSERT INTO {count} (gram, province_code, status, n) "
        f"SELECT gram, province_code, status, COUNT(*) FROM {token} "
        "GROUP BY gram, province_code, status"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("agencies", "0003_search_index"),
    ]

    operations = [
        migrations.CreateModel(
            name="SearchGramCount",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "gram",
                        "province_code",
                        "status",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("gram", models.CharField(max_length=64)),
                ("province_code", models.CharField(max_length=2)),
                ("status", models.CharField(max_length=4)),
                ("n", models.PositiveIntegerField()),
            ],
            options={
                "verbose_name": "词元计数",
                "verbose_name_plural": "词元计数",
            },
        ),
        migrations.RunPython(count_existing, migrations.RunPython.noop, elidable=False),
    ]
