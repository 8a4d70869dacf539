"""URL sources: downloaded atomically by their own rule; refused offline for hub hosts."""

from __future__ import annotations

import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from prefscope.data.download import download, url_file_name
from prefscope.data.ingest import read_table
from prefscope.errors import InputError

ROWS = '{"prompt": "p", "response_A": "a", "response_B": "b", "label": 1}\n' * 3


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def served(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    (root / "pairs.json").write_text(ROWS)
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=root))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_download_then_ingest_reads_it(served, tmp_path):
    dest = tmp_path / "results/ds/download" / url_file_name(f"{served}/pairs.json")
    download(f"{served}/pairs.json", dest)
    assert dest.read_text() == ROWS
    assert read_table(str(dest)).height == 3


def test_failed_download_leaves_no_file(served, tmp_path):
    dest = tmp_path / "missing.json"
    with pytest.raises(InputError, match="404"):
        download(f"{served}/missing.json", dest)
    assert list(tmp_path.iterdir()) == [tmp_path / "www"]


def test_hub_urls_are_refused_offline_and_names_need_an_extension(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    url = "https://huggingface.co/datasets/rmovva/wimhf-data/resolve/main/data/prism.json"
    assert url_file_name(url) == "prism.json"
    with pytest.raises(InputError, match="HF_HUB_OFFLINE"):
        download(url, tmp_path / "prism.json")
    with pytest.raises(InputError, match="extension"):
        url_file_name("https://example.org/data/")
