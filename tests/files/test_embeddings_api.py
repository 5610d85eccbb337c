"""The embeddings API (EMBEDDINGS_PROVIDER=openai), played by a local server
speaking OpenAI's wire format (tests/agents/fake_llm.py)."""

import numpy as np
import pytest

from files.embeddings import DIMENSIONS, EmbeddingError, OpenAIEmbedder
from tests.agents.fake_llm import FakeLLM

KEY = "sk-embed-0123456789"


def test_the_configured_server_embeds_in_the_columns_dimensions():
    """The operator's server is called as configured, although it is on
    loopback, which no network setting allows."""
    with FakeLLM(keys={KEY}) as fake:
        embedder = OpenAIEmbedder(
            model="text-embedding-3-small", api_key=KEY, base_url=fake.openai_base_url
        )
        vectors = embedder.embed(["one", "two"])
        sent = fake.requests[0]
    assert vectors.shape == (2, DIMENSIONS)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0)
    assert sent["path"] == "/v1/embeddings"
    assert sent["body"]["dimensions"] == DIMENSIONS
    assert embedder.name == "openai/text-embedding-3-small"


def test_a_redirect_from_the_server_to_an_internal_address_is_refused():
    with FakeLLM(keys={KEY}, host="127.0.0.2") as inside, FakeLLM(keys={KEY}) as fake:
        fake.redirect_to = inside.base_url
        embedder = OpenAIEmbedder(
            model="text-embedding-3-small", api_key=KEY, base_url=fake.openai_base_url
        )
        with pytest.raises(
            EmbeddingError,
            match=r"cannot be used: 127\.0\.0\.2 is not a public address",
        ):
            embedder.embed(["one"])
        assert inside.requests == []
