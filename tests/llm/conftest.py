"""Fixtures for the LLM layer: the embedded model (converted to the cache once per machine) and a live server.

The first run on a machine converts the GGUF (about 40 s on 2 cores); later runs load the cached copy.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import radscribe
from radscribe.llm import LLMConfig, load_chat_model

SERVER_START_TIMEOUT_S = 180  # covers a first-time conversion in the server process too


# One torch thread per process in tests: with pytest-xdist's two workers plus the server subprocess,
# 2 threads each would oversubscribe the 2 cores and OpenMP's spinning makes everything ~10x slower.
TEST_THREADS = 1


@pytest.fixture(scope="session")
def embedded_model():
    """SmolLM2-135M-Instruct on one thread, from the safetensors cache (converting first if needed)."""
    return load_chat_model(LLMConfig(backend="embedded", threads=TEST_THREADS))


def _read_lines(stream, lines: "queue.Queue[str]") -> None:
    for line in stream:
        lines.put(line)


@pytest.fixture(scope="session")
def llm_server(embedded_model):
    """`radscribe serve --port 0` in a subprocess with the embedded model; yields its base URL (…/v1)."""
    env = dict(os.environ, PYTHONPATH=str(Path(radscribe.__file__).parents[1]), RADSCRIBE_LLM_BACKEND="embedded",
               RADSCRIBE_LLM_THREADS=str(TEST_THREADS))
    proc = subprocess.Popen([sys.executable, "-m", "radscribe", "serve", "--host", "127.0.0.1", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    lines: "queue.Queue[str]" = queue.Queue()
    threading.Thread(target=_read_lines, args=(proc.stdout, lines), daemon=True).start()
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    url = None
    while url is None and time.monotonic() < deadline and proc.poll() is None:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            continue
        if " at http://" in line:
            url = line.split(" at ", 1)[1].split()[0]
    if url is None:
        proc.kill()
        pytest.fail(f"radscribe serve did not start: {proc.stderr.read()[-2000:]}")
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
