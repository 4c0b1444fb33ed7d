"""`thinlto report` opened in a real headless Chromium (Debian's `chromium`).

The reports are made here without Bazel, from programs compiled with the real clang-22 and
rustc and linked through the helper (thin link, one backend per module writing optimization
remarks, final link): examples/mixed, and the generated 1,000-module program of the
benchmarks (tools/gen). Each fixture returns the report and the plan it shows; set
THINLTO_REPORT_MIXED or THINLTO_REPORT_N1000 to a report a build wrote (its plan.json next
to it) to check that one instead.

The browser is driven over the Chrome DevTools Protocol (with websocket-client): every console message, exception and log entry of the page is
collected, and screenshots go to tests/e2e/scratch/report/ (or $THINLTO_TEST_ARTIFACTS), which
git ignores.
"""

import base64
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import websocket  # websocket-client, from PyPI (tools/setup.sh)

from conftest import CLANG, ROOT, bazel, bin_dir, prebuilt_helper

TARGET = "x86_64-unknown-linux-gnu"
RUSTC = os.environ.get("RUSTC", "rustc")
ARTIFACTS = Path(os.environ.get("THINLTO_TEST_ARTIFACTS") or ROOT / "tests/e2e/scratch/report")
CHROMIUM = os.environ.get("THINLTO_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
JOBS = os.cpu_count() or 2

# The bar for the generated 1,000-module program.
MAX_N1000_BYTES = 5 * 1024 * 1024
MAX_N1000_OPEN_S = 2.0


# ---- a Chrome DevTools Protocol client ---------------------------------------------------


class Browser:
    """Headless Chromium with one page, driven over CDP; it records what the page reports."""

    FLAGS = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
        "--remote-debugging-port=0",
    ]

    def __init__(self, binary, width=1400, height=900):
        self.profile = tempfile.mkdtemp(prefix="thinlto-report-chromium-")
        self.proc = subprocess.Popen(
            [binary, *self.FLAGS, f"--user-data-dir={self.profile}", f"--window-size={width},{height}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own process group: stopped whole in close()
        )
        port_file = Path(self.profile) / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not (port_file.exists() and len(port_file.read_text().splitlines()) >= 2):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise RuntimeError(f"chromium did not start: {self.proc.stderr.read().decode()[-3000:]}")
            time.sleep(0.05)
        port = port_file.read_text().splitlines()[0]
        targets = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=30).read())
        page = next(t for t in targets if t["type"] == "page")
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=60, suppress_origin=True)
        self.next_id = 0
        self.events = []
        for domain in ("Page", "Runtime", "Log"):
            self.call(f"{domain}.enable")
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)

    def call(self, method, **params):
        self.next_id += 1
        me = self.next_id
        self.ws.send(json.dumps({"id": me, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == me:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def js(self, expression):
        r = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise AssertionError(f"{expression}: {json.dumps(r['exceptionDetails'])[:3000]}")
        return r["result"].get("value")

    def problems(self):
        """Console errors and warnings, uncaught exceptions, and error log entries (CSP, network)."""
        out = []
        for e in self.events:
            method, p = e["method"], e.get("params", {})
            if method == "Runtime.exceptionThrown":
                out.append("exception: " + json.dumps(p["exceptionDetails"])[:3000])
            elif method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert", "warning"):
                args = " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))
                out.append(f"console.{p['type']}: {args}")
            elif method == "Log.entryAdded" and p["entry"]["level"] in ("error", "warning"):
                out.append(f"log {p['entry']['level']} ({p['entry'].get('source')}): {p['entry'].get('text')}")
        return out

    def open(self, path, fragment="", timeout=60):
        """Loads a report fresh; returns the seconds from navigation to the page saying it is drawn."""
        self.call("Page.navigate", url="about:blank")
        while self.js("location.href") != "about:blank":
            time.sleep(0.01)
        self.events.clear()
        url = Path(path).resolve().as_uri() + fragment
        started = time.monotonic()
        self.call("Page.navigate", url=url)
        while not self.js("!!(window.__thinlto && window.__thinlto.ready)"):
            if time.monotonic() - started > timeout:
                raise AssertionError(f"{url} not drawn after {timeout} s: {self.problems()}")
            time.sleep(0.005)
        return time.monotonic() - started

    def go(self, fragment):
        """Follows a link inside the report (its views are routed by the URL's fragment)."""
        self.js(f"location.hash = {json.dumps(fragment)}")
        time.sleep(0.15)
        self.js("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")

    def screenshot(self, name):
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        out = ARTIFACTS / name
        out.write_bytes(base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"]))
        return out

    def rows(self):
        """The cells of the rows of the tables in the main view, as text."""
        return self.js("[...document.querySelectorAll('#view .vt-row')].map(r => [...r.children].map(c => c.textContent))")

    def close(self):
        if getattr(self, "ws", None):
            self.ws.close()
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        shutil.rmtree(self.profile, ignore_errors=True)


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM:
        pytest.fail("no chromium: install Debian's (apt-get install -y chromium) or set THINLTO_CHROMIUM")
    b = Browser(CHROMIUM)
    yield b
    b.close()


# ---- programs built through the helper, without Bazel -------------------------------------


@pytest.fixture(scope="module")
def helper():
    return str(prebuilt_helper())


def sh(argv, cwd, env=None):
    proc = subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        raise AssertionError(f"{argv} failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    return proc.stdout


class Program:
    """One program in an exec root of its own, compiled to bitcode and linked through the helper
    as the rules do: the thin link, one backend per module (with --remarks), the final link."""

    def __init__(self, root, helper):
        self.root, self.helper = Path(root), helper
        self.timings = self.root / "timings.jsonl"

    def entry(self, obj, owner, thin_link=False):
        rest = obj.removeprefix("obj/")
        e = {
            "kind": "bitcode",
            "path": obj,
            "owner": owner,
            "outputs": {
                "index": f"lto/{rest}.thinlto.bc",
                "imports": f"lto/{rest}.imports",
                "object": f"lto/{rest}",
                "pack": f"lto/{rest}.pack",
            },
        }
        if thin_link:
            e["thin_link"] = obj.removesuffix(".o") + ".indexing.o"
        return e

    def cpp(self, src, obj, owner):
        (self.root / obj).parent.mkdir(parents=True, exist_ok=True)
        indexing = obj.removesuffix(".o") + ".indexing.o"
        sh([CLANG, f"--target={TARGET}", "-O2", "-flto=thin", "-I", ".", "-c", src, "-o", obj,
            f"-fthin-link-bitcode={indexing}"], self.root)
        return self.entry(obj, owner, thin_link=True)

    def rust(self, src, crate, obj, owner, extern=(), emit_metadata=None, bootstrap=False):
        (self.root / obj).parent.mkdir(parents=True, exist_ok=True)
        emit = f"obj={obj}" + (f",metadata={emit_metadata}" if emit_metadata else "")
        argv = [RUSTC, "--edition=2021", "--crate-type=rlib", "--target", TARGET, "-Clinker-plugin-lto", "-Copt-level=2",
                "-Ccodegen-units=1", "--crate-name", crate, f"--emit={emit}", src]
        for name, path in extern:
            argv += ["--extern", f"{name}={path}", f"-Ldependency={Path(path).parent}"]
        env = None
        if bootstrap:
            env = dict(os.environ, RUSTC_BOOTSTRAP="1")
            argv += ["-Zunstable-options", "-Csymbol-mangling-version=legacy", "-Zplt=yes"]
        sh(argv, self.root, env)
        return self.entry(obj, owner)

    def runtime(self):
        """The allocator shim (as the rules link it: marker whole before std, forwarders lazily
        after), Rust's std rlibs and the system libraries, as manifest inputs."""
        for shim in ("alloc_shim", "alloc_shim_marker"):
            shutil.copy(ROOT / f"tools/alloc_shim/{shim}.rs", self.root / f"{shim}.rs")
        marker = self.rust("alloc_shim_marker.rs", "alloc_shim_marker", "obj/rust/alloc_shim_marker.o", "//rules:alloc_shim_marker", bootstrap=True)
        shim = self.rust("alloc_shim.rs", "alloc_shim", "obj/rust/alloc_shim.o", "//rules:alloc_shim", bootstrap=True)
        libdir = sh([RUSTC, "--print", "target-libdir", "--target", TARGET], self.root).strip()
        std = json.loads((ROOT / "tools/thinlto/rust_std.json").read_text())
        names = os.listdir(libdir)
        rlibs = []
        for krate in std["crates"] + [std["panic_runtimes"]["unwind"]]:
            rlibs += sorted(n for n in names if n.startswith(f"lib{krate}-") and n.endswith(".rlib"))
        if not (self.root / "sysroot").exists():
            os.symlink(libdir, self.root / "sysroot")
        return ([marker] + [{"kind": "archive", "path": f"sysroot/{r}"} for r in rlibs]
                + [{"kind": "start_lib", "members": [shim]}] + [{"kind": "library", "flag": f} for f in std["native_libs"]])

    def link(self, output, inputs):
        manifest = {
            "version": 2,
            "output": output,
            "linker": {"driver": CLANG, "flags": [f"--target={TARGET}", "-fuse-ld=lld"], "post_flags": ["-lstdc++"]},
            "inputs": inputs,
        }
        (self.root / "lto").mkdir(exist_ok=True)
        (self.root / "lto/manifest.json").write_text(json.dumps(manifest, indent=1))
        env = dict(os.environ, THINLTO_TIMINGS=str(self.timings))
        sh([self.helper, "index", "--manifest=lto/manifest.json", "--plan=lto/plan.json", "--final-link-params=lto/final.params"], self.root, env)
        plan = json.loads((self.root / "lto/plan.json").read_text())

        def backend(m):
            sh([self.helper, "backend", f"--module={m['module']}", f"--index={m['index']}", f"--imports={m['imports_file']}",
                f"--import-pack={m['object']}.pack", f"--out={m['object']}", f"--remarks={m['object']}.remarks.yaml",
                "--", CLANG, f"--target={TARGET}", "-O2"], self.root, env)

        with ThreadPoolExecutor(JOBS) as pool:
            list(pool.map(backend, plan["modules"]))
        sh([self.helper, "link", "--manifest=lto/manifest.json", "--params=lto/final.params"], self.root, env)
        return plan

    def report(self, out="report.html"):
        sh([self.helper, "report", "--plan=lto/plan.json", "--manifest=lto/manifest.json", "--remarks=lto",
            f"--timings={self.timings}", f"--out={out}"], self.root)
        return self.root / out


def given_report(variable):
    path = os.environ.get(variable)
    if not path:
        return None
    report = Path(path)
    return {"report": report, "plan": json.loads((report.parent / "plan.json").read_text())}


@pytest.fixture(scope="module")
def mixed():
    """examples/mixed as a user gets its report: `bazel build --config=thinlto_report`
    (C++ main -> Rust report -> Rust stats -> C++ geometry, and main -> stats)."""
    given = given_report("THINLTO_REPORT_MIXED")
    if given:
        return given
    bazel("build", "--config=thinlto_report", "//examples/mixed:mixed")
    lto = bin_dir("--config=thinlto_report") / "examples/mixed/mixed.lto"
    return {"report": lto / "report.html", "plan": json.loads((lto / "plan.json").read_text())}


@pytest.fixture(scope="module")
def n1000(helper, tmp_path_factory):
    """The benchmarks' generated program (tools/gen): 1,000 C++ modules in 100 libraries and 10
    Rust crates calling C++ and called by it."""
    given = given_report("THINLTO_REPORT_N1000")
    if given:
        return given
    p = Program(tmp_path_factory.mktemp("n1000"), helper)
    sh(["cargo", "run", "--release", "--locked", "-q", "-p", "thinlto-gen", "--", "--modules", "1000", "--rust-crates", "10",
        "--out", str(p.root / "gen"), "--package-prefix", "gen"], ROOT)
    libs = sorted(d.name for d in (p.root / "gen").iterdir() if d.name.startswith("lib"))
    crates = sorted(d.name for d in (p.root / "gen").iterdir() if d.name.startswith("rs"))
    jobs = [(f"gen/{lib}/{cc.name}", f"obj/gen/{lib}/{cc.stem}.o", f"//gen/{lib}:{lib}")
            for lib in libs for cc in sorted((p.root / "gen" / lib).glob("*.cc"))]
    with ThreadPoolExecutor(JOBS) as pool:
        compiled = list(pool.map(lambda j: p.cpp(*j), jobs + [("gen/main.cc", "obj/gen/main.o", "//gen:app")]))
    # Crates use crates with lower numbers (their BUILD files say which): compiled in order.
    rust = []
    for c in crates:
        uses = re.findall(r'"//gen/(rs\d+):rs\d+"', (p.root / "gen" / c / "BUILD.bazel").read_text())
        rust.append(p.rust(f"gen/{c}/lib.rs", c, f"obj/gen/{c}.o", f"//gen/{c}:{c}", emit_metadata=f"obj/gen/lib{c}.rmeta",
                           extern=[(u, f"obj/gen/lib{u}.rmeta") for u in uses]))
    main = compiled.pop()
    groups = {}
    for e in compiled:
        groups.setdefault(e["owner"], []).append(e)
    inputs = [main] + [{"kind": "start_lib", "members": g} for g in groups.values()]
    inputs += [{"kind": "start_lib", "members": [e]} for e in rust] + p.runtime()
    plan = p.link("bin/app", inputs)
    return {"report": p.report(), "plan": plan, "root": p.root}


# ---- the checks ---------------------------------------------------------------------------


def test_mixed_report_renders_with_no_console_error(browser, mixed):
    seconds = browser.open(mixed["report"])
    assert browser.problems() == []
    assert browser.js("document.title") == f"ThinLTO report: {mixed['plan']['output']}"
    browser.screenshot("mixed-overview.png")
    for fragment, shot in (("#tab=cross", "mixed-cross-language.png"), ("#tab=targets", "mixed-targets.png"),
                           ("#tab=unused", "mixed-unused.png"), ("#tab=backends", "mixed-backends.png")):
        browser.go(fragment)
        browser.screenshot(shot)
    main = next(i for i, m in enumerate(mixed["plan"]["modules"]) if m["module"].endswith("main.o"))
    browser.go(f"#tab=modules&m={main}")
    browser.screenshot("mixed-module-main.png")
    browser.go("#q=square")
    assert browser.problems() == []
    print(f"mixed report drawn in {seconds:.3f} s")


def test_mixed_report_lists_every_module(browser, mixed):
    browser.open(mixed["report"], "#tab=modules")
    listed = [cells[0] for cells in browser.rows()]
    assert sorted(listed) == sorted(m["module"] for m in mixed["plan"]["modules"])
    assert browser.js("document.querySelector('#tabs [data-tab=modules] .n').textContent") == str(len(listed))
    assert browser.problems() == []


def test_mixed_report_shows_the_cross_language_inlines(browser, mixed):
    # What tests/e2e/test_examples.py reads from the disassembly: Rust's rust_square_plus_one
    # inlined into C++'s main, C++'s cpp_square into Rust's rust_square_plus_one and
    # stats::sum_of_squares.
    browser.open(mixed["report"], "#tab=cross")
    rows = {(r[0], r[1], r[2]) for r in browser.rows()}
    for expected in [
        ("Rust rust_square_plus_one", "inlined into", "C++ main"),
        ("C++ cpp_square", "inlined into", "Rust rust_square_plus_one"),
        ("C++ cpp_square", "inlined into", "Rust stats::sum_of_squares"),
    ]:
        assert expected in rows, f"{expected} not among the cross-language rows: {sorted(rows)}"
    assert all(r[1] in ("inlined into", "not inlined into") for r in rows)
    assert browser.problems() == []


def test_a_module_page_says_why_each_import_is_there(browser, mixed):
    plan = mixed["plan"]["modules"]
    main = next(i for i, m in enumerate(plan) if m["module"].endswith("main.o"))
    browser.open(mixed["report"], f"#tab=modules&m={main}")
    imports = browser.js(
        "Object.fromEntries([...document.querySelectorAll('#detail tr[data-import]')]"
        ".map(r => [r.dataset.import, [[...r.querySelectorAll('.fn')].map(f => f.textContent), r.textContent]]))"
    )
    geometry = next(p for p in imports if p.endswith("geometry.o"))
    functions, text = imports[geometry]
    assert sorted(functions) == ["cpp_square", "geometry_initialized"], imports
    assert "geometry_initialized into main" in text, text
    stats = next(p for p in imports if p.endswith("stats.o"))
    assert imports[stats][0] == ["rust_square_plus_one"], imports
    assert browser.problems() == []


def test_html_special_characters_in_paths_and_symbols_are_shown_as_text(browser, helper, tmp_path):
    # A plan alone (no bitcode at all): the report notes what it could not read and still draws.
    nasty = 'obj/<img src=x onerror="window.__pwned=1">&amp;.o'
    owner = "//x:<b>bold</b> & 'quoted'"
    modules = []
    for i, path in enumerate([nasty, "obj/plain.o"]):
        modules.append({"module": path, "owner": owner, "loaded": True, "index": f"lto/{i}.thinlto.bc",
                        "imports_file": f"lto/{i}.imports", "object": f"lto/{i}.o", "imports": [] if i else ["obj/plain.o"]})
    (tmp_path / "plan.json").write_text(json.dumps({"version": 2, "output": "bin/</script><script>window.__pwned=2</script>", "modules": modules}))
    sh([helper, "report", "--plan=plan.json", "--out=report.html"], tmp_path)
    browser.open(tmp_path / "report.html", "#tab=modules")
    assert browser.js("window.__pwned === undefined")
    assert browser.js("document.querySelectorAll('img, b').length") == 0
    assert browser.js("document.querySelectorAll('script').length") == 2
    assert nasty in [r[0] for r in browser.rows()]
    assert browser.js("document.title") == "ThinLTO report: bin/</script><script>window.__pwned=2</script>"
    browser.go("#tab=modules&m=0")
    assert browser.js("document.querySelector('#detail h2').textContent") == nasty
    assert browser.js("window.__pwned === undefined")
    assert browser.problems() == []


def test_report_of_the_1000_module_program_is_small_and_opens_fast(browser, n1000):
    report = n1000["report"]
    size = report.stat().st_size
    assert size < MAX_N1000_BYTES, f"{report}: {size} bytes"
    seconds = browser.open(report)
    drawn_at = browser.js("window.__thinlto.readyAt") / 1000
    print(f"N=1,000 report: {size / 1e6:.2f} MB, drawn {seconds:.3f} s after navigation ({drawn_at:.3f} s by the page's clock)")
    assert seconds < MAX_N1000_OPEN_S, f"the report took {seconds:.2f} s to open"
    assert browser.problems() == []
    browser.screenshot("n1000-overview.png")
    modules = n1000["plan"]["modules"]
    assert browser.js("window.__thinlto.modules") == len(modules) >= 1000
    # Search finds any module, and its page opens.
    some = modules[len(modules) // 2]["module"]
    browser.go("#q=" + some)
    assert some in [r[0] for r in browser.rows()]
    i = next(i for i, m in enumerate(modules) if m["module"] == some)
    browser.go(f"#tab=modules&m={i}")
    assert browser.js("document.querySelector('#detail h2').textContent") == some
    browser.screenshot("n1000-module.png")
    for tab in ("targets", "modules", "backends", "cross", "unused"):
        started = time.monotonic()
        browser.go(f"#tab={tab}")
        assert time.monotonic() - started < MAX_N1000_OPEN_S, tab
        browser.screenshot(f"n1000-{tab}.png")
    # Rust crates call C++ and are called by it: the inliner's decisions across the boundary are there.
    assert browser.js("document.querySelector('#tabs [data-tab=cross] .n').textContent") not in ("", "0")
    assert browser.problems() == []
