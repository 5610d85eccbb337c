# The pgvector extension, which file search's embeddings need. Created here,
# in the first migration of the app that owns embeddings, so every database the
# site runs on (embedded or DATABASE_URL) has it.
from django.db import migrations
from pgvector.django import VectorExtension


class Migration(migrations.Migration):
    initial = True
    dependencies: list = []
    operations = [VectorExtension()]
