"""`sselang lsp` driven as an editor drives it: a subprocess spoken to over
stdin/stdout with LSP JSON-RPC messages in Content-Length frames, by the small
client below.  Every wait has a time limit, so a server that stops answering
fails the test instead of hanging it.
"""

from __future__ import annotations

import importlib.util
import json
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import ROOT

needs_pygls = pytest.mark.skipif(importlib.util.find_spec("pygls") is None,
                                 reason="the language server needs the lsp extra: pip install 'sselang[lsp]'")

START_TIMEOUT = 120  # the first diagnostics load pymatgen's tables; generous on a busy machine
TIMEOUT = 30


class Client:
    """A hand-written LSP client: frames, requests, notifications, time limits."""

    def __init__(self, cwd: Path, *args: str) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "sselang.cli", "lsp", *args], cwd=cwd,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.inbox: queue.Queue = queue.Queue()
        self.stderr: list[bytes] = []
        self.notifications: list[dict] = []
        self.next_id = 0
        threading.Thread(target=self._read, daemon=True).start()
        self._err = threading.Thread(target=lambda: self.stderr.extend(iter(self.proc.stderr.readline, b"")),
                                     daemon=True)
        self._err.start()

    def log(self) -> str:
        """Everything the server wrote to stderr (once it has exited)."""
        self.proc.wait(timeout=TIMEOUT)
        self._err.join(timeout=TIMEOUT)
        return b"".join(self.stderr).decode()

    def _read(self) -> None:
        out = self.proc.stdout
        while True:
            length = None
            while True:  # headers up to the blank line
                line = out.readline()
                if not line:
                    self.inbox.put(None)
                    return
                line = line.strip()
                if not line:
                    break
                name, _, value = line.partition(b":")
                if name.lower() == b"content-length":
                    length = int(value)
            assert length is not None, "a frame without Content-Length"
            self.inbox.put(json.loads(out.read(length)))

    def send(self, msg: dict) -> None:
        body = json.dumps({"jsonrpc": "2.0", **msg}).encode("utf-8")
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def notify(self, method: str, params: dict) -> None:
        self.send({"method": method, "params": params})

    def _next(self, deadline: float) -> dict:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no message from the server in time; stderr:\n" + b"".join(self.stderr).decode())
        try:
            msg = self.inbox.get(timeout=left)
        except queue.Empty:
            raise TimeoutError("no message from the server in time; stderr:\n" + b"".join(self.stderr).decode())
        if msg is None:
            raise EOFError("the server closed its output; stderr:\n" + b"".join(self.stderr).decode())
        if "method" in msg and "id" in msg:  # a request from the server: answer it
            self.send({"id": msg["id"], "result": None})
        elif "method" in msg:
            self.notifications.append(msg)
        return msg

    def request(self, method: str, params: dict | None, timeout: float = TIMEOUT):
        self.next_id += 1
        rid = self.next_id
        self.send({"id": rid, "method": method, "params": params})
        deadline = time.monotonic() + timeout
        while True:
            msg = self._next(deadline)
            if msg.get("id") == rid and "method" not in msg:
                assert "error" not in msg, msg["error"]
                return msg["result"]

    def diagnostics(self, uri: str, version: int, timeout: float = TIMEOUT, after: int | None = None) -> list[dict]:
        """The diagnostics the server publishes for this version of the document
        (with `after`: the first ones published after that many notifications)."""
        deadline = time.monotonic() + timeout
        for n in self.notifications[after or 0:]:
            if self._is_diag(n, uri, version):
                return n["params"]["diagnostics"]
        while True:
            msg = self._next(deadline)
            if self._is_diag(msg, uri, version):
                return msg["params"]["diagnostics"]

    @staticmethod
    def _is_diag(msg: dict, uri: str, version: int) -> bool:
        return (msg.get("method") == "textDocument/publishDiagnostics" and msg["params"]["uri"] == uri
                and msg["params"].get("version") == version)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=TIMEOUT)
        for f in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            f.close()


def initialize(client: Client, root: Path, encodings: tuple[str, ...] = ("utf-16",)) -> dict:
    result = client.request("initialize", {
        "processId": None,
        "rootUri": root.as_uri(),
        "capabilities": {
            "general": {"positionEncodings": list(encodings)},
            "textDocument": {
                "hover": {"contentFormat": ["markdown", "plaintext"]},
                "completion": {"completionItem": {"snippetSupport": False}},
                "publishDiagnostics": {"relatedInformation": True, "versionSupport": True},
            },
        },
    }, timeout=START_TIMEOUT)
    client.notify("initialized", {})
    return result


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if importlib.util.find_spec("pygls") is None:
        pytest.skip("the language server needs the lsp extra: pip install 'sselang[lsp]'")
    root = tmp_path_factory.mktemp("lsp")
    client = Client(root)
    try:
        client.init_result = initialize(client, root)
        client.root = root
        yield client
    finally:
        client.kill()


def _open(client: Client, name: str, text: str, version: int = 1) -> str:
    uri = (client.root / name).as_uri()
    client.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "sselang", "version": version,
                                                            "text": text}})
    return uri


def _change(client: Client, uri: str, version: int, text: str) -> None:
    client.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version},
                                             "contentChanges": [{"text": text}]})


def _pos(text: str, needle: str, delta: int = 0) -> dict:
    """LSP position (UTF-16) of `needle` in text, plus `delta` characters."""
    i = text.index(needle) + delta
    line = text.count("\n", 0, i)
    col_text = text[text.rfind("\n", 0, i) + 1:i]
    return {"line": line, "character": len(col_text.encode("utf-16-le")) // 2}


# Deliberately not in the canonical layout (spacing, alignment), so formatting has work to do.
CLEAN = """\
# LiNbO3-coated LiCoO2 | Li6PS5Cl
study "lsp-test" {
  title = "Hover, completion and formatting"
}

material LPSCl {
  formula = Li6PS5Cl
  structure = library("Li6PS5Cl")
}

cell baseline {
  cathode = LiCoO2 { charged_to = 4.3 V }
  coating     = LiNbO3 { thickness = 5 nm }
  electrolyte = LPSCl
  anode = LiIn
  conditions {
    temperature = 25 degC
  }
}

analyze baseline {
  window electrolyte
  diffusion electrolyte {
    temperatures = [600, 800, 1000] K
    duration = 20 ps
    supercell = min 10 Å
  }
}
"""

# The key `formula` without its `=`: line 7 (1-based), the token Li6PS5Cl at column 11.
BROKEN = CLEAN.replace("  formula = Li6PS5Cl", "  formula Li6PS5Cl")

# A misspelled key after an emoji on the same line (two UTF-16 code units), and an unused material.
UNICODE = CLEAN.replace('  title = "Hover, completion and formatting"',
                        '  title = "🔋 Hover"  refrence = "x"').replace(
    "cell baseline {", "material Unused { formula = Li3PS4 }\n\ncell baseline {")


def test_initialize_announces_the_features(server):
    caps = server.init_result["capabilities"]
    assert server.init_result["serverInfo"]["name"] == "sselang"
    assert caps["hoverProvider"]
    assert caps["documentFormattingProvider"]
    assert caps["completionProvider"]["triggerCharacters"] == ['"', "("]
    assert caps["textDocumentSync"]["openClose"] is True
    assert caps.get("positionEncoding", "utf-16") == "utf-16"


def test_diagnostics_as_you_type(server):
    uri = _open(server, "typing.cell", BROKEN, version=1)
    diags = server.diagnostics(uri, 1, timeout=START_TIMEOUT)
    assert len(diags) == 1
    (d,) = diags
    assert d["code"] == "SSE001" and d["severity"] == 1 and d["source"] == "sselang"
    assert "unexpected 'Li6PS5Cl'" in d["message"]
    # line 7, column 11 in the compiler's 1-based numbers; LSP counts from 0
    assert d["range"] == {"start": {"line": 6, "character": 10}, "end": {"line": 6, "character": 18}}

    # the fix typed as an editor sends it: an incremental change inserting " =" after `formula`
    server.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 2}, "contentChanges": [
        {"range": {"start": {"line": 6, "character": 9}, "end": {"line": 6, "character": 9}}, "text": " ="}]})
    assert server.diagnostics(uri, 2) == []
    assert _hover(server, uri, CLEAN, "formula = Li6PS5Cl")["contents"]["value"].startswith("**formula** (key)")

    _change(server, uri, 3, UNICODE)
    diags = sorted(server.diagnostics(uri, 3), key=lambda d: d["code"])
    assert [(d["code"], d["severity"]) for d in diags] == [("SSE010", 1), ("SSE090", 2)]
    key, unused = diags
    # `  title = "🔋 Hover"  ` is 21 characters and 22 UTF-16 code units (the emoji takes two)
    assert key["range"] == {"start": {"line": 2, "character": 22}, "end": {"line": 2, "character": 30}}
    assert key["message"].startswith("unknown key 'refrence' in study")
    assert "help: did you mean 'reference'?" in key["message"]
    assert unused["range"] == {"start": {"line": 10, "character": 9}, "end": {"line": 10, "character": 15}}
    assert "never used" in unused["message"]

    _change(server, uri, 4, CLEAN)
    assert server.diagnostics(uri, 4) == []


def test_diagnostics_match_the_golden_corpus(server):
    """Every broken study of tests/bad/ gets the codes and places its golden file
    lists (what `sselang check` reports), opened where it lies so `use` resolves."""
    cases = sorted((ROOT / "tests" / "bad").glob("*.cell"))
    assert len(cases) > 50
    opened = 0
    for path in cases:
        data = path.read_bytes()
        if b"\x00" in data:
            continue  # a binary file: no editor buffer holds it as text
        try:
            text = data.decode("utf-8-sig")  # as an editor shows it: no byte-order mark
        except UnicodeDecodeError:
            continue  # not UTF-8: the encoding error is about the file's bytes, which a buffer does not have
        uri = path.as_uri()
        server.notify("textDocument/didOpen", {"textDocument": {
            "uri": uri, "languageId": "sselang", "version": 1, "text": text}})
        opened += 1
        got = []
        for d in server.diagnostics(uri, 1, timeout=START_TIMEOUT):
            # a diagnostic in a file the case uses sits on its `use` line; its own place is the related one
            where = d["relatedInformation"][0]["location"]["range"] if d.get("relatedInformation") else d["range"]
            got.append(f"{d['code']} {where['start']['line'] + 1}:{where['start']['character'] + 1}")
        want = [line.replace(" 0:0", " 1:1") for line in
                path.with_suffix(".expected").read_text(encoding="utf-8").split("\n") if line.strip()]
        assert sorted(got) == sorted(want), path.name
        server.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    assert opened > 50


def test_diagnostics_of_an_imported_file_show_on_its_use_line(server):
    shared = server.root / "shared.cell"
    shared.write_text("material LPSCl {\n  formula = Lj6PS5Cl\n}\n", encoding="utf-8")
    text = 'use "shared.cell"\n\nstudy "uses" { }\n\nanalyze LPSCl { window }\n'
    uri = _open(server, "uses.cell", text)
    diags = server.diagnostics(uri, 1, timeout=START_TIMEOUT)
    (d,) = [d for d in diags if d["code"] == "SSE031"]
    assert d["range"] == {"start": {"line": 0, "character": 4}, "end": {"line": 0, "character": 17}}
    assert "shared.cell:2:13" in d["message"] and "'Lj' is not an element" in d["message"]
    (rel,) = d["relatedInformation"]
    assert rel["location"]["uri"] == shared.resolve().as_uri()
    assert rel["location"]["range"]["start"] == {"line": 1, "character": 12}
    h = _hover(server, uri, text, "LPSCl { window }")
    assert "it may come from a file this one `use`s" in h["contents"]["value"]

    # the shared file fixed on disk; saving the study checks it again, imports included
    shared.write_text("material LPSCl {\n  formula = Li6PS5Cl\n}\n", encoding="utf-8")
    server.notify("textDocument/didSave", {"textDocument": {"uri": uri}})
    assert server.diagnostics(uri, 1, timeout=TIMEOUT, after=len(server.notifications)) == []
    h = _hover(server, uri, text, "LPSCl { window }")
    assert h["contents"]["value"].startswith("**LPSCl**: material from `shared.cell:1`")
    assert "formula: `Li6PS5Cl`" in h["contents"]["value"]


def _hover(client: Client, uri: str, text: str, needle: str, delta: int = 0):
    return client.request("textDocument/hover", {"textDocument": {"uri": uri},
                                                 "position": _pos(text, needle, delta)})


def test_hover(server):
    uri = _open(server, "hover.cell", CLEAN)
    assert server.diagnostics(uri, 1, timeout=START_TIMEOUT) == []

    h = _hover(server, uri, CLEAN, "diffusion electrolyte", 3)
    assert h["contents"]["kind"] == "markdown"
    assert h["contents"]["value"].startswith("**diffusion** (keyword)")
    assert "AIMD" in h["contents"]["value"] and "Arrhenius" in h["contents"]["value"]
    assert h["range"] == {"start": _pos(CLEAN, "diffusion electrolyte"),
                          "end": _pos(CLEAN, "diffusion electrolyte", len("diffusion"))}

    h = _hover(server, uri, CLEAN, "degC", 1)
    value = h["contents"]["value"]
    assert value.startswith("**degC**: unit of temperature")
    assert "[temperature]" in value
    assert "25 degC = 298.15 K" in value  # the written quantity, converted by pint
    assert "stored as 298.15" in value

    h = _hover(server, uri, CLEAN, "10 Å", 3)
    assert "unit of length" in h["contents"]["value"] and "10 Å = 1e-09 m" in h["contents"]["value"]

    h = _hover(server, uri, CLEAN, "electrolyte = LPSCl", len("electrolyte = "))
    value = h["contents"]["value"]
    assert value.startswith("**LPSCl**: material (line 6)")
    assert "formula: `Li6PS5Cl` (Li 6, P 1, S 5, Cl 1 per formula unit)" in value
    assert 'structure: `library("Li6PS5Cl")`' in value
    assert "space group 216" in value and "Deiseroth" in value  # the library record
    assert "energies from `bundled`" in value

    h = _hover(server, uri, CLEAN, "LiNbO3 {")  # an inline material: no material block
    assert "inline material" in h["contents"]["value"] and "Li 1, Nb 1, O 3" in h["contents"]["value"]

    h = _hover(server, uri, CLEAN, "window electrolyte", len("window "))
    assert h["contents"]["value"].startswith("**electrolyte** (role)")
    assert "In cell `baseline`: `LPSCl`" in h["contents"]["value"]

    h = _hover(server, uri, CLEAN, "charged_to")
    assert "Upper charge potential" in h["contents"]["value"]

    assert _hover(server, uri, CLEAN, "# LiNbO3", 3) is None  # comments are prose


def _complete(client: Client, uri: str, text: str, needle: str, delta: int = 0) -> list[dict]:
    result = client.request("textDocument/completion", {"textDocument": {"uri": uri},
                                                        "position": _pos(text, needle, delta)})
    return result["items"]


def test_completion(server):
    typing = CLEAN.replace("  window electrolyte\n", "  wi\n").replace(
        "  anode = LiIn\n", "  anode = LiIn\n  electrolyte = LP\n").replace(
        '  structure = library("Li6PS5Cl")', '  structure = library("Li6').replace(
        "    temperature = 25 degC", "    temperature = 25 ")
    uri = _open(server, "complete.cell", typing)
    server.diagnostics(uri, 1, timeout=START_TIMEOUT)

    items = _complete(server, uri, typing, "  wi\n", 4)  # a request keyword being typed
    labels = [i["label"] for i in items]
    assert {"window", "profile", "reactivity", "diffusion", "barrier", "interface", "screen"} <= set(labels)
    edit = items[labels.index("window")]["textEdit"]
    assert edit["newText"] == "window"
    assert edit["range"] == {"start": _pos(typing, "  wi\n", 2), "end": _pos(typing, "  wi\n", 4)}

    items = _complete(server, uri, typing, 'library("Li6', len('library("Li6'))  # the structure library
    labels = {i["label"] for i in items}
    assert {"Li6PS5Cl", "Li10GeP2S12", "Li3PS4", "LiCoO2"} <= labels
    (li6,) = [i for i in items if i["label"] == "Li6PS5Cl"]
    assert li6["textEdit"]["range"]["start"] == _pos(typing, 'library("Li6', len('library("'))

    items = _complete(server, uri, typing, "temperature = 25 ", len("temperature = 25 "))  # units of the key's kind
    assert [i["label"] for i in items] == ["K", "degC", "degF"]
    assert all(i["kind"] == 11 for i in items)  # CompletionItemKind.Unit

    items = _complete(server, uri, typing, "electrolyte = LP\n", len("electrolyte = LP"))  # a role's material
    labels = [i["label"] for i in items]
    assert "LPSCl" in labels and "Li6PS5Cl" in labels and "Li3PS4" in labels

    items = _complete(server, uri, typing, "cell baseline {\n", len("cell baseline {\n"))  # roles in a cell
    assert [i["label"] for i in items] == ["cathode", "coating", "electrolyte", "anode", "conditions", "observed"]
    assert items[0]["textEdit"]["newText"] == "cathode = "

    items = _complete(server, uri, typing, "duration = 20 ps\n", len("duration = 20 ps\n"))  # diffusion keys
    assert {"temperatures", "duration", "equilibrate", "timestep", "supercell"} <= {i["label"] for i in items}

    items = _complete(server, uri, typing, "# LiNbO3", 5)  # nothing inside a comment
    assert items == []


def _formatted_by_cli(text: str, tmp_path: Path) -> str:
    f = tmp_path / "fmt.cell"
    f.write_text(text, encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "sselang.cli", "fmt", str(f)], capture_output=True, text=True,
                       timeout=120, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    return f.read_text(encoding="utf-8")


def _apply(text: str, edits: list[dict]) -> str:
    """Apply whole-line-and-character LSP edits (UTF-16 positions) to a text."""
    lines = text.split("\n")

    def offset(p):
        line_text = lines[p["line"]] if p["line"] < len(lines) else ""
        units, i = 0, 0
        while i < len(line_text) and units < p["character"]:
            units += len(line_text[i].encode("utf-16-le")) // 2
            i += 1
        return sum(len(x) + 1 for x in lines[:p["line"]]) + i

    for e in sorted(edits, key=lambda e: (e["range"]["start"]["line"], e["range"]["start"]["character"]),
                    reverse=True):
        text = text[:offset(e["range"]["start"])] + e["newText"] + text[offset(e["range"]["end"]):]
    return text


def test_formatting_is_sselang_fmt(server, tmp_path):
    uri = _open(server, "format.cell", CLEAN)
    server.diagnostics(uri, 1, timeout=START_TIMEOUT)
    opts = {"tabSize": 4, "insertSpaces": True}
    edits = server.request("textDocument/formatting", {"textDocument": {"uri": uri}, "options": opts})
    assert len(edits) == 1  # one edit: the whole document
    (edit,) = edits
    lines = CLEAN.split("\n")
    assert edit["range"] == {"start": {"line": 0, "character": 0},
                             "end": {"line": len(lines) - 1, "character": len(lines[-1])}}
    expected = _formatted_by_cli(CLEAN, tmp_path)
    assert expected != CLEAN
    assert edit["newText"] == expected
    assert _apply(CLEAN, edits) == expected

    _change(server, uri, 2, expected)  # formatted text: nothing to do
    server.diagnostics(uri, 2)
    assert server.request("textDocument/formatting", {"textDocument": {"uri": uri}, "options": opts}) == []

    _change(server, uri, 3, BROKEN)  # does not parse: no edit
    server.diagnostics(uri, 3)
    assert server.request("textDocument/formatting", {"textDocument": {"uri": uri}, "options": opts}) == []


@needs_pygls
def test_utf8_positions_then_shutdown_and_exit(tmp_path):
    client = Client(tmp_path, "--stdio")
    try:
        result = initialize(client, tmp_path, encodings=("utf-8", "utf-16"))
        assert result["capabilities"]["positionEncoding"] == "utf-8"
        client.root = tmp_path
        uri = _open(client, "utf8.cell", UNICODE)
        (key,) = [d for d in client.diagnostics(uri, 1, timeout=START_TIMEOUT) if d["code"] == "SSE010"]
        # `  title = "🔋 Hover"  ` is 24 bytes in UTF-8 (the emoji takes four)
        assert key["range"] == {"start": {"line": 2, "character": 24}, "end": {"line": 2, "character": 32}}
        h = client.request("textDocument/hover", {"textDocument": {"uri": uri},
                                                  "position": {"line": 2, "character": 4}})
        assert h["contents"]["value"].startswith("**title** (key)")
        assert h["range"] == {"start": {"line": 2, "character": 2}, "end": {"line": 2, "character": 7}}
        assert client.request("shutdown", None) is None
        client.notify("exit", None)
        assert client.proc.wait(timeout=TIMEOUT) == 0
        assert "Traceback" not in client.log()
    finally:
        client.kill()


@needs_pygls
def test_a_malformed_message_is_logged_and_exit_without_shutdown_is_an_error(tmp_path):
    client = Client(tmp_path)
    try:
        client.proc.stdin.write(b"Content-Length: 5\r\n\r\n{bad}")  # not JSON
        client.proc.stdin.flush()
        initialize(client, tmp_path)  # the server carries on
        client.notify("exit", None)
        assert client.proc.wait(timeout=TIMEOUT) == 1
        log = client.log()
        assert "sselang lsp: ERROR: Unable to handle message (JSONDecodeError" in log
        assert "Traceback" not in log
    finally:
        client.kill()


def test_without_pygls_says_how_to_install_it():
    # pygls made unimportable in this one process, as on an installation without the extra
    code = ("import sys; sys.modules['pygls'] = None; sys.argv = ['sselang', 'lsp']; "
            "from sselang.cli import main; main()")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 1
    assert "pip install 'sselang[lsp]'" in r.stderr
    assert "Traceback" not in r.stderr and r.stdout == ""
