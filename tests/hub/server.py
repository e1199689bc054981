#!/usr/bin/env python3
"""A local stand-in for the Hugging Face Hub, for the end-to-end tests (no network there).

Serves the repository's test checkpoints as the Hub lays them out, under /hub:
/hub/<org>/<repo>/resolve/<revision>/<file>, with Content-Length, ETag, Range (206), CORS
headers, and for model.safetensors a 302 redirect to a CDN path (/cdn/...) as the Hub does for
LFS files. Some repositories misbehave on purpose (see REPOS). With --dist it also serves the
built app at /, so the page and its "Hub" share an origin (any Content-Security-Policy with
'self' lets the tests through).

GET /__log lists the Hub and CDN requests made so far; POST /__reset clears it and the
misbehaviour counters. Prints "READY <port>" once listening.
"""

import argparse
import gzip
import json
import os
import random
import struct
import sys
import threading
import time
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TINY = os.path.join(ROOT, "tests", "fixtures", "models", "tiny")
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "models")

# Repository -> (folder its files come from, misbehaviour). Files a folder lacks are 404.
REPOS = {
    "test/tiny": (TINY, None),
    "test/bf16": (os.path.join(FIXTURES, "bf16"), None),
    "test/odd-heads": (os.path.join(FIXTURES, "odd-heads-f32"), None),
    "test/openai-layout": (os.path.join(FIXTURES, "openai-layout"), None),
    "test/tiny-slow": (TINY, "slow"),  # the weights trickle in (~8 s)
    "test/tiny-drop": (TINY, "drop"),  # the weights' connection drops mid-file, twice
    "test/tiny-drop-tokenizer": (TINY, "droptokenizer"),  # tokenizer.json's first answer drops halfway
    "test/tiny-flaky": (TINY, "flaky"),  # every answer for the weights drops after 2.5 MB
    "test/tiny-norange": (TINY, "norange"),  # ignores Range; drops the first answer
    "test/tiny-short": (TINY, "short"),  # Content-Length (and body) 4 KiB short of the file
    "test/garbage": (TINY, "garbage"),  # model.safetensors is random bytes
    "test/llama": (TINY, "llama"),  # config.json is a Llama config
    "test/pickle-only": (TINY, "pickle"),  # pytorch_model.bin and no model.safetensors
    "test/huge": (TINY, "huge"),  # a GPT-2 XL-sized header (6.4 GB file)
    "test/wrong-shape": (TINY, "wrong-shape"),  # odd-heads' config with tiny's weights
    "test/slow-tokenizer": (TINY, "slow-tokenizer"),  # vocab.json + merges.txt, no tokenizer.json
    "test/hang": (TINY, "hang"),  # never answers
    "test/big-config": (TINY, "big-config"),  # config.json padded to over 2 MB
    "test/gzip-tokenizer": (TINY, "gzip"),  # tokenizer.json gzip-encoded, Content-Length the compressed size
    "test/offsite": (TINY, "offsite"),  # the weights redirect to another origin (localhost for 127.0.0.1)
    "test/tiny-changed": (TINY, "changed"),  # the weights drop at 30% and come back with another ETag
    "test/no-length": (TINY, "no-length"),  # the weights' first answer has no Content-Length and ends halfway
    "test/tiny-stall": (TINY, "stall"),  # the weights' first answer sends its headers and 4 KiB, then nothing
}

LOG = []
COUNTS = {}
LOCK = threading.Lock()


def tokenizer_files():
    """vocab.json and merges.txt as the slow GPT-2 tokenizer ships them."""
    with open(os.path.join(TINY, "tokenizer.json"), encoding="utf-8") as f:
        model = json.load(f)["model"]
    vocab = json.dumps(model["vocab"], ensure_ascii=False).encode()
    lines = [m if isinstance(m, str) else f"{m[0]} {m[1]}" for m in model["merges"]]
    merges = ("#version: 0.2\n" + "\n".join(lines) + "\n").encode()
    return vocab, merges


def huge_header():
    """A safetensors header for GPT-2 XL (F32, 48 layers of 1600), and the file length it implies."""
    n_embd, n_layer, vocab, n_pos = 1600, 48, 50257, 1024
    shapes = [("wte.weight", [vocab, n_embd]), ("wpe.weight", [n_pos, n_embd])]
    for i in range(n_layer):
        p = f"h.{i}."
        shapes += [(p + "ln_1.weight", [n_embd]), (p + "ln_1.bias", [n_embd]),
                   (p + "attn.c_attn.weight", [n_embd, 3 * n_embd]), (p + "attn.c_attn.bias", [3 * n_embd]),
                   (p + "attn.c_proj.weight", [n_embd, n_embd]), (p + "attn.c_proj.bias", [n_embd]),
                   (p + "ln_2.weight", [n_embd]), (p + "ln_2.bias", [n_embd]),
                   (p + "mlp.c_fc.weight", [n_embd, 4 * n_embd]), (p + "mlp.c_fc.bias", [4 * n_embd]),
                   (p + "mlp.c_proj.weight", [4 * n_embd, n_embd]), (p + "mlp.c_proj.bias", [n_embd])]
    shapes += [("ln_f.weight", [n_embd]), ("ln_f.bias", [n_embd])]
    header, offset = {}, 0
    for name, shape in shapes:
        size = 4
        for d in shape:
            size *= d
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + size]}
        offset += size
    body = json.dumps(header).encode()
    body += b" " * (-len(body) % 8)
    start = struct.pack("<Q", len(body)) + body
    return start, len(start) + offset


def llama_config():
    return json.dumps({"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 64,
                       "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 32000}).encode()


class Content:
    """A file's bytes: whole (`data`), or a prefix of a longer, virtual file (`length`), and the
    Content-Encoding they are sent with."""

    def __init__(self, data, length=None, encoding=None):
        self.data = data
        self.length = len(data) if length is None else length
        self.encoding = encoding


def content(repo, file):
    folder, mode = REPOS[repo]

    def read(path):
        with open(path, "rb") as f:
            return f.read()

    if mode == "llama" and file == "config.json":
        return Content(llama_config())
    if mode == "pickle":
        if file == "model.safetensors":
            return None
        if file == "pytorch_model.bin":
            return Content(b"PK\x03\x04 not really a pickle")
    if mode == "huge":
        if file == "config.json":
            return Content(json.dumps({"model_type": "gpt2", "vocab_size": 50257, "n_positions": 1024, "n_embd": 1600,
                                       "n_layer": 48, "n_head": 25}).encode())
        if file == "model.safetensors":
            start, length = huge_header()
            return Content(start, length)
    if mode == "garbage" and file == "model.safetensors":
        return Content(random.Random(7).randbytes(2 * 1024 * 1024))
    if mode == "wrong-shape" and file == "config.json":
        return Content(read(os.path.join(FIXTURES, "odd-heads-f32", "config.json")))
    if mode == "slow-tokenizer":
        if file == "tokenizer.json":
            return None
        if file in ("vocab.json", "merges.txt"):
            vocab, merges = tokenizer_files()
            return Content(vocab if file == "vocab.json" else merges)
    if mode == "big-config" and file == "config.json":
        return Content(read(os.path.join(folder, file)) + b" " * (2 * 1024 * 1024))
    if mode == "gzip" and file == "tokenizer.json":
        return Content(gzip.compress(read(os.path.join(folder, file))), encoding="gzip")
    if mode == "short" and file == "model.safetensors":
        return Content(read(os.path.join(folder, file))[:-4096])
    path = os.path.join(folder, file)
    if file in ("vocab.json", "merges.txt", "pytorch_model.bin") or not os.path.isfile(path):
        return None
    return Content(read(path))


class Handler(SimpleHTTPRequestHandler):
    dist = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, directory=Handler.dist or ROOT, **kwargs)

    def log_message(self, *args):
        pass

    def cors(self):
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Access-Control-Expose-Headers", "Content-Length, Content-Range, ETag, Accept-Ranges")

    def do_OPTIONS(self):
        self.send_response(HTTPStatus.NO_CONTENT)
        self.cors()
        self.send_header("Access-Control-Allow-Methods", "GET, HEAD")
        self.send_header("Access-Control-Allow-Headers", "Range")
        self.end_headers()

    def do_HEAD(self):
        self.route(head=True)

    def do_GET(self):
        self.route(head=False)

    def do_POST(self):
        if self.path == "/__reset":
            with LOCK:
                LOG.clear()
                COUNTS.clear()
            return self.small(200, b"{}")
        self.small(404, b"not found")

    def small(self, status, body, kind="application/json"):
        self.send_response(status)
        self.cors()
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def route(self, head):
        path = unquote(urlsplit(self.path).path)
        if path == "/__log":
            with LOCK:
                return self.small(200, json.dumps(LOG).encode())
        for prefix, cdn in (("/hub/", False), ("/cdn/", True)):
            if path.startswith(prefix):
                with LOCK:
                    LOG.append({"method": self.command, "path": path, "range": self.headers.get("Range")})
                return self.hub(path[len(prefix):], cdn, head)
        if Handler.dist is None:
            return self.small(404, b"not found")
        return super().do_HEAD() if head else super().do_GET()

    def hub(self, rest, cdn, head):
        if cdn:  # /cdn/<org>/<repo>/<revision>/<file>
            parts = rest.split("/")
            if len(parts) < 4:
                return self.small(404, b'{"error": "Entry not found"}')
            repo, file = "/".join(parts[:2]), parts[-1]
        else:  # /hub/<org>/<repo>/resolve/<revision>/<file>
            before, sep, after = rest.partition("/resolve/")
            revision, _, file = after.rpartition("/")
            if not sep or not revision or not file:
                return self.small(404, b'{"error": "Entry not found"}')
            repo = before
        if repo not in REPOS:
            return self.small(404, b'{"error": "Repository not found"}')
        if REPOS[repo][1] == "hang":
            time.sleep(3600)  # the thread is a daemon: it ends with the server
            return
        found = content(repo, file)
        if found is None:
            return self.small(404, b'{"error": "Entry not found"}')
        if file == "model.safetensors" and not cdn:
            offsite = f"http://localhost:{self.server.server_address[1]}" if REPOS[repo][1] == "offsite" else ""
            self.send_response(HTTPStatus.FOUND)
            self.cors()
            self.send_header("Location", f"{offsite}/cdn/{repo}/{revision}/{file}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_file(repo, file, found, head)

    def send_file(self, repo, file, found, head):
        mode = REPOS[repo][1]
        length = found.length
        first, last = 0, length - 1
        wanted = self.headers.get("Range")
        partial = wanted is not None and wanted.startswith("bytes=") and mode != "norange"
        if partial:
            a, _, b = wanted[len("bytes="):].partition("-")
            first = int(a) if a else 0
            last = min(int(b), length - 1) if b else length - 1
            if first >= length:
                self.send_response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
                self.cors()
                self.send_header("Content-Range", f"bytes */{length}")
                self.send_header("Content-Length", "0")
                return self.end_headers()
        body = found.data[first:last + 1]
        # The weights' download (the whole file, or the rest of it), not the check of their first
        # bytes: only it misbehaves, and only it is counted (tokenizer.json, over 1 MB, is not).
        download = not head and file == "model.safetensors" and len(body) > 1024 * 1024 and (wanted is None or wanted.endswith("-"))
        tokenizer = not head and file == "tokenizer.json" and mode == "droptokenizer" and (wanted is None or wanted.endswith("-"))
        with LOCK:
            COUNTS[repo] = COUNTS.get(repo, 0) + download + tokenizer
            answer = COUNTS[repo]
        unannounced = download and mode == "no-length" and answer == 1
        self.send_response(HTTPStatus.PARTIAL_CONTENT if partial else HTTPStatus.OK)
        self.cors()
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Accept-Ranges", "none" if mode == "norange" else "bytes")
        self.send_header("ETag", f'"{repo}-{length}-v2"' if download and mode == "changed" and answer > 1 else f'"{repo}-{length}"')
        if found.encoding:
            self.send_header("Content-Encoding", found.encoding)
        if not unannounced:
            self.send_header("Content-Length", str(last - first + 1))
        if partial:
            self.send_header("Content-Range", f"bytes {first}-{last}/{length}")
        self.end_headers()
        if head:
            return
        if last >= len(found.data):
            # the body of a virtual file is never sent whole
            self.wfile.write(found.data[first:])
            return self.drop()
        if unannounced:
            # HTTP/1.0 with no Content-Length: the body ends, cleanly, where the connection closes
            self.wfile.write(body[:len(body) // 2])
            return
        if download and mode == "changed" and answer == 1:
            return self.send_then_drop(body, len(body) * 3 // 10)
        if tokenizer and answer == 1:
            return self.send_then_drop(body, len(body) // 2)
        if download and mode == "drop" and answer <= 2:
            return self.send_then_drop(body, len(body) * 3 // 10)
        if download and mode == "flaky":
            return self.send_then_drop(body, 2_500_000)
        if download and mode == "norange" and answer == 1:
            return self.send_then_drop(body, len(body) // 2)
        if download and mode == "stall" and answer == 1:
            self.wfile.write(body[:4096])
            self.wfile.flush()
            time.sleep(3600)  # the connection stays open, silent; the thread is a daemon
            return
        if download and mode == "slow":
            for i in range(0, len(body), 64 * 1024):
                self.wfile.write(body[i:i + 64 * 1024])
                self.wfile.flush()
                time.sleep(0.035)
            return
        self.wfile.write(body)

    def send_then_drop(self, body, cut):
        self.wfile.write(body[:cut])
        self.wfile.flush()
        time.sleep(0.2)
        self.drop()

    def drop(self):
        """Ends the connection without the rest of the body, as a dropped network would."""
        try:
            self.connection.shutdown(2)
        except OSError:
            pass
        self.close_connection = True


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--dist", help="also serve the built app from this folder at /")
    args = parser.parse_args()
    Handler.dist = os.path.abspath(args.dist) if args.dist else None
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print(f"READY {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
