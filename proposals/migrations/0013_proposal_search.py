"""Search: each proposal's search document, filled for the proposals there are; on PostgreSQL
the unaccent extension, one text search configuration per language (unaccent, then the
language's stemmer), the search_vector column kept by a trigger, and its GIN index."""

from html import unescape

from django.db import migrations, models
from django.utils.html import strip_tags

LANGUAGES = {"fr": "french", "es": "spanish", "en": "english"}

CONFIGS_CREATE = "\n".join(
    f"""
    CREATE TEXT SEARCH CONFIGURATION proposals_{name} (COPY = pg_catalog.{name});
    ALTER TEXT SEARCH CONFIGURATION proposals_{name}
        ALTER MAPPING FOR hword, hword_part, word WITH unaccent, {name}_stem;
    """
    for name in LANGUAGES.values()
)

TRIGGER_CREATE = """
CREATE FUNCTION proposals_search_vector_set() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    config regconfig := CASE NEW.language
        WHEN 'fr' THEN 'proposals_french'::regconfig
        WHEN 'es' THEN 'proposals_spanish'::regconfig
        ELSE 'proposals_english'::regconfig
    END;
BEGIN
    NEW.search_vector :=
        setweight(to_tsvector(config, coalesce(NEW.title, '')), 'A')
        || setweight(to_tsvector(config, coalesce(NEW.summary, '')), 'B')
        || setweight(to_tsvector(config, coalesce(NEW.search_document, '')), 'D');
    RETURN NEW;
END
$$;
CREATE TRIGGER proposals_search_vector_set
    BEFORE INSERT OR UPDATE OF title, summary, search_document, language
    ON proposals_proposal FOR EACH ROW EXECUTE FUNCTION proposals_search_vector_set();
"""

POSTGRES_FORWARD = "\n".join(
    [
        "CREATE EXTENSION IF NOT EXISTS unaccent;",
        CONFIGS_CREATE,
        "ALTER TABLE proposals_proposal ADD COLUMN search_vector tsvector;",
        TRIGGER_CREATE,
        "UPDATE proposals_proposal SET search_document = search_document;",
        "CREATE INDEX proposals_proposal_search_vector ON proposals_proposal"
        " USING gin (search_vector);",
    ]
)

POSTGRES_BACKWARD = """
DROP TRIGGER IF EXISTS proposals_search_vector_set ON proposals_proposal;
DROP FUNCTION IF EXISTS proposals_search_vector_set();
ALTER TABLE proposals_proposal DROP COLUMN IF EXISTS search_vector;
""" + "\n".join(
    f"DROP TEXT SEARCH CONFIGURATION IF EXISTS proposals_{name};" for name in LANGUAGES.values()
)


def documents_fill(apps, schema_editor):
    """The same document as proposals.search.search_document, from the historical models."""
    Proposal = apps.get_model("proposals", "Proposal")
    Submission = apps.get_model("proposals", "Submission")
    references = dict(Submission.objects.values_list("proposal_id", "reference"))
    for proposal in Proposal.objects.select_related("lead_organization").prefetch_related(
        "authors"
    ):
        authors = [
            f"{f'{person.first_name} {person.last_name}'.strip()} {person.username}"
            for person in proposal.authors.all()
        ]
        parts = [
            proposal.summary,
            unescape(strip_tags(proposal.text_html)) if proposal.text_html else proposal.text,
            proposal.title,
            *authors,
            proposal.lead_organization.name,
            proposal.lead_organization.short_name,
            references.get(proposal.pk, ""),
        ]
        document = "\n".join(part.strip() for part in parts if part and part.strip())
        Proposal.objects.filter(pk=proposal.pk).update(search_document=document)


def postgres_forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_FORWARD)


def postgres_backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_BACKWARD)


class Migration(migrations.Migration):
    dependencies = [
        ("proposals", "0012_webhooks"),
    ]

    operations = [
        migrations.AddField(
            model_name="proposal",
            name="search_document",
            field=models.TextField(
                blank=True,
                db_default="",
                default="",
                editable=False,
                help_text=(
                    "The words the proposal is found by: title, summary, text, authors, "
                    "organisations and filing reference, rewritten by the services that change "
                    "them."
                ),
                verbose_name="search document",
            ),
        ),
        migrations.RunPython(documents_fill, migrations.RunPython.noop),
        migrations.RunPython(postgres_forward, postgres_backward),
    ]
