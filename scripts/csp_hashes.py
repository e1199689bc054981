#!/usr/bin/env python3
"""Trunk post_build hook: puts the SHA-256 of every inline <script> of the built page into its
Content-Security-Policy, in place of the 'inline-script-hashes' marker. Trunk's loader is the one
inline script, and its text names the content-hashed file names, so its hash changes with every
build: computed here, the policy allows exactly that script and nothing else inline."""
import base64
import hashlib
import os
import re
import sys

MARKER = "'inline-script-hashes'"

path = os.path.join(os.environ["TRUNK_STAGING_DIR"], "index.html")
with open(path, encoding="utf-8") as f:
    html = f.read()
if html.count(MARKER) != 1:
    sys.exit(f"csp_hashes.py: {path} must hold {MARKER} once, in its Content-Security-Policy")
# The browser hashes a script element's text exactly as written between its tags.
inline = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", html, re.S)
hashes = [f"'sha256-{base64.b64encode(hashlib.sha256(s.encode('utf-8')).digest()).decode()}'" for s in inline]
with open(path, "w", encoding="utf-8") as f:
    f.write(html.replace(MARKER, " ".join(hashes)))
print(f"csp_hashes.py: {len(hashes)} inline script(s) allowed by hash")
