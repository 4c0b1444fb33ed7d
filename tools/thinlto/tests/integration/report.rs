//! `thinlto report` and `thinlto explain --why` on the pipeline's mixed C++/Rust program,
//! built with the real toolchain and backends asked for their optimization remarks.

use crate::pipeline::build_inputs;
use crate::support::*;
use serde_json::{json, Value};
use std::path::Path;
use thinlto::plan::Plan;

/// The pipeline program indexed, each backend run in the exec root with `--remarks`, linked.
fn built(root: &Path) -> Plan {
    let manifest = build_inputs(root);
    write(&root.join("lto/manifest.json"), serde_json::to_vec_pretty(&manifest).unwrap());
    let timings = root.join("timings.jsonl");
    run(thinlto(root)
        .args(["index", "--manifest=lto/manifest.json", "--plan=lto/plan.json", "--final-link-params=lto/final.params"])
        .env("THINLTO_TIMINGS", &timings));
    let plan = Plan::read(&root.join("lto/plan.json")).unwrap();
    for m in &plan.modules {
        run(thinlto(root)
            .args([
                "backend",
                &format!("--module={}", m.module),
                &format!("--index={}", m.index),
                &format!("--imports={}", m.imports_file),
                &format!("--import-pack={}.pack", m.object),
                &format!("--out={}", m.object),
                &format!("--remarks={}.remarks.yaml", m.object),
                "--",
                &clang(),
                &format!("--target={TARGET}"),
                "-O2",
            ])
            .env("THINLTO_TIMINGS", &timings));
    }
    run(thinlto(root)
        .args(["link", "--manifest=lto/manifest.json", "--params=lto/final.params"])
        .env("THINLTO_TIMINGS", &timings));
    plan
}

fn report(root: &Path, out: &str) -> String {
    run(thinlto(root).args([
        "report",
        "--plan=lto/plan.json",
        "--manifest=lto/manifest.json",
        "--remarks=lto",
        "--timings=timings.jsonl",
        &format!("--out={out}"),
    ]));
    std::fs::read_to_string(root.join(out)).unwrap()
}

/// The JSON the page draws itself from.
fn data(html: &str) -> Value {
    let start = html.find("<script type=\"application/json\" id=\"thinlto-data\">").unwrap();
    let rest = &html[start..];
    let body = &rest[rest.find('>').unwrap() + 1..rest.find("</script>").unwrap()];
    serde_json::from_str(body).unwrap()
}

fn position(d: &Value, suffix: &str) -> usize {
    d["modules"]["path"].as_array().unwrap().iter().position(|p| p.as_str().unwrap().ends_with(suffix)).unwrap()
}

/// The functions the index of module `i` selected from module `j`: (name, declaration only).
fn selected(d: &Value, i: usize, j: usize) -> Vec<(String, bool)> {
    let k = d["modules"]["imports"][i].as_array().unwrap().iter().position(|x| x == j).unwrap();
    let codes = d["modules"]["sel"][i][k][0].as_array().unwrap();
    codes
        .iter()
        .map(|c| {
            let c = c.as_u64().unwrap();
            (d["names"][(c / 2) as usize].as_str().unwrap().to_string(), c % 2 == 1)
        })
        .collect()
}

#[test]
fn report_and_explain_of_a_mixed_program() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let plan = built(root);
    let html = report(root, "report.html");
    let d = data(&html);

    // Every module of the plan, in its order, with its owner, language and size.
    let paths: Vec<&str> = d["modules"]["path"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
    assert_eq!(paths, plan.modules.iter().map(|m| m.module.as_str()).collect::<Vec<_>>());
    let lang = |suffix: &str| d["modules"]["lang"][position(&d, suffix)].as_str().unwrap().to_string();
    assert_eq!(lang("obj/main.o"), "C++");
    assert_eq!(lang("obj/rust/rs.o"), "Rust");
    assert_eq!(lang("obj/rust/alloc_shim.o"), "Rust");
    let owner = d["modules"]["owner"][position(&d, "obj/main.o")].as_i64().unwrap();
    assert_eq!(d["owners"][owner as usize], "cpp:main");
    let size = d["modules"]["size"][position(&d, "obj/helper.o")].as_u64().unwrap();
    assert_eq!(size, std::fs::metadata(root.join("obj/helper.o")).unwrap().len());
    let unused = position(&d, "obj/lib/unused.o");
    assert_eq!((d["modules"]["loaded"][unused].as_u64(), d["modules"]["lazy"][unused].as_u64()), (Some(0), Some(1)));

    // Why each import: what the index selected, by name.
    let (main, rs, helper) = (position(&d, "obj/main.o"), position(&d, "obj/rust/rs.o"), position(&d, "obj/helper.o"));
    assert!(selected(&d, main, rs).contains(&("rust_process".to_string(), false)), "{:?}", selected(&d, main, rs));
    assert!(selected(&d, rs, helper).contains(&("cpp_square".to_string(), false)), "{:?}", selected(&d, rs, helper));

    // The inliner's decisions across the language boundary, from the remarks.
    let name = |i: &Value| d["names"][i.as_u64().unwrap() as usize].as_str().unwrap().to_string();
    let rows: Vec<(String, String, bool, String)> = d["inlines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let lang = |m: &Value| match m.as_i64().unwrap() {
                -1 => "?".to_string(),
                m => d["modules"]["lang"][m as usize].as_str().unwrap().to_string(),
            };
            (format!("{} {}", lang(&r[4]), name(&r[2])), format!("{} {}", lang(&r[3]), name(&r[1])), r[5] == 1, {
                d["reasons"][r[6].as_u64().unwrap() as usize].as_str().unwrap().to_string()
            })
        })
        .collect();
    let has = |callee: &str, caller: &str, inlined: bool| {
        rows.iter().any(|r| r.0 == callee && r.1 == caller && r.2 == inlined)
    };
    assert!(has("Rust rust_process", "C++ main", true), "{rows:#?}");
    assert!(has("C++ cpp_square", "Rust rust_process", true), "{rows:#?}");
    assert!(rows.iter().all(|r| !r.3.is_empty()), "{rows:#?}");
    // Backend times from THINLTO_TIMINGS (its backend lines name their module).
    assert!(d["modules"]["seconds"][main].as_f64().unwrap() > 0.0);
    assert!(d["link_seconds"].as_f64().unwrap() > 0.0 && d["index_seconds"].as_f64().unwrap() > 0.0);

    // Self-contained and deterministic: no absolute path, nothing loaded from elsewhere, the
    // same bytes again, and from a copy of the exec root elsewhere.
    let abs = root.canonicalize().unwrap();
    assert!(!html.contains(abs.to_str().unwrap()) && !html.contains(root.to_str().unwrap()));
    for outside in ["<script src", "<link", "<img", "url(", "@import", "fetch(", "XMLHttpRequest"] {
        assert!(!html.contains(outside), "the report holds {outside:?}");
    }
    assert!(html.contains("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none';"));
    assert_eq!(report(root, "again.html"), html);
    let copy = tempfile::tempdir().unwrap();
    run(std::process::Command::new("cp").arg("-a").arg(format!("{}/.", root.display())).arg(copy.path()));
    assert!(report(copy.path(), "report.html") == html, "a copy of the exec root elsewhere gives another report");

    // explain --why, for a module and for a symbol.
    let why = |x: &str| {
        let out = run(thinlto(root).args([
            "explain",
            "--plan=lto/plan.json",
            "--manifest=lto/manifest.json",
            "--remarks=lto",
            &format!("--why={x}"),
        ]));
        String::from_utf8(out.stdout).unwrap()
    };
    let text = why("helper.o");
    assert!(text.starts_with("module obj/helper.o [cpp:helper] (C++, "), "{text}");
    assert!(text.contains("obj/rust/rs.o [?]: cpp_square"), "{text}");
    assert!(text.contains("cpp_square inlined into rust_process: cost="), "{text}");
    let text = why("cpp_square");
    assert!(text.contains("defined in obj/helper.o [cpp:helper] (C++)"), "{text}");
    assert!(
        text.contains("cpp_square (C++) inlined into rust_process (Rust) in the backend of obj/rust/rs.o"),
        "{text}"
    );
    let text = why("common.o");
    assert!(
        text.starts_with("2 modules match 'common.o'; give more of the path:\n  obj/a/common.o\n  obj/b/common.o\n"),
        "{text}"
    );
    let stderr = thinlto_fails(thinlto(root).args(["explain", "--plan=lto/plan.json", "--why=no_such_thing"]));
    assert!(stderr.contains("no module or symbol of the plan for 'bin/prog' matches 'no_such_thing'"), "{stderr}");

    // The remarks clang-22 wrote, read as the report reads them.
    let remarks = std::fs::read_to_string(root.join("lto/rust/rs.o.remarks.yaml")).unwrap();
    let decisions: Vec<_> =
        thinlto::remarks::parse(&remarks).unwrap().iter().filter_map(thinlto::remarks::inline_decision).collect();
    assert!(
        decisions.iter().any(|d| d.callee == "cpp_square" && d.caller == "rust_process" && d.inlined),
        "{decisions:#?}"
    );
}

#[test]
fn report_shows_html_special_characters_as_data_and_notes_what_it_cannot_read() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let nasty = "obj/<script>alert(\"x\")</script> & 'q'.o";
    let module = |path: &str, i: usize, imports: Value| {
        json!({"module": path, "owner": "//a:<b>&amp;</b>", "loaded": true, "index": format!("lto/{i}.bc"),
               "imports_file": format!("lto/{i}.imports"), "object": format!("lto/{i}.o"), "imports": imports})
    };
    let plan = json!({"version": 2, "output": "bin/<!--x-->", "modules": [
        module(nasty, 0, json!(["obj/plain.o"])), module("obj/plain.o", 1, json!([]))]});
    write(&root.join("plan.json"), plan.to_string());
    run(thinlto(root).args(["report", "--plan=plan.json", "--out=r.html"]));
    let html = std::fs::read_to_string(root.join("r.html")).unwrap();
    assert_eq!(html.matches("<script").count(), 2, "only the data and the page's own script");
    assert!(!html.contains("alert(\"x\")</script>") && !html.contains("<b>") && !html.contains("<!--x"));
    assert!(html.contains("<title>ThinLTO report: bin/&lt;!--x--&gt;</title>"));
    let d = data(&html);
    assert_eq!(d["modules"]["path"][0], nasty);
    assert_eq!(d["owners"][0], "//a:<b>&amp;</b>");
    let notes = d["notes"].as_array().unwrap();
    assert!(
        notes[0].as_str().unwrap().starts_with("2 module file(s) could not be read: cannot read module"),
        "{notes:?}"
    );
    assert!(notes[1].as_str().unwrap().starts_with("2 index file(s) could not be read"), "{notes:?}");
}

#[test]
fn archive_members_write_remarks_where_asked_and_the_report_finds_their_backends() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        &root.join("src/main.cpp"),
        "extern \"C\" int used(int);\nint main(int argc, char**) { return used(argc); }\n",
    );
    write(&root.join("src/used.cpp"), "extern \"C\" int used(int x) { return x + 2; }\n");
    write(&root.join("src/unused.cpp"), "extern \"C\" int unused(int x) { return x * 7; }\n");
    for m in ["main", "used", "unused"] {
        compile_cpp(root, &format!("src/{m}.cpp"), &format!("obj/{m}.o"));
    }
    run(std::process::Command::new("llvm-ar-22").current_dir(root).args([
        "rc",
        "obj/liblib.a",
        "obj/used.o",
        "obj/unused.o",
    ]));
    run(thinlto(root).args(["extract", "--archive=obj/liblib.a", "--out-dir=x/members", "--fragment=x/fragment.json"]));
    let extracted = json!({"kind": "extracted", "archive": "obj/liblib.a", "fragment": "x/fragment.json",
        "members": "x/members", "outputs": "x/lto", "objects": "x/objects", "owner": "//lib:lib"});
    write(
        &root.join("manifest.json"),
        serde_json::to_vec(&manifest(json!([bitcode("obj/main.o"), extracted]))).unwrap(),
    );
    run(thinlto(root).args([
        "index",
        "--manifest=manifest.json",
        "--plan=lto/plan.json",
        "--final-link-params=lto/final.params",
    ]));
    let compiler = [clang(), format!("--target={TARGET}"), "-O2".to_string()];
    run(thinlto(root)
        .args(["backend", "--module=obj/main.o", "--index=lto/main.o.thinlto.bc", "--imports=lto/main.o.imports"])
        .args(["--import-pack=lto/main.o.pack", "--out=lto/main.o", "--remarks=lto/main.o.remarks.yaml", "--"])
        .args(&compiler));
    run(thinlto(root)
        .args(["archive-backends", "--fragment=x/fragment.json", "--members=x/members", "--outputs=x/lto"])
        .args(["--objects=x/objects", "--remarks-dir=x/remarks", "--"])
        .args(&compiler));
    assert_eq!(files_below(&root.join("x/remarks")), ["unused.o.remarks.yaml", "used.o.remarks.yaml"]);

    let html = std::fs::read_to_string({
        run(thinlto(root).args([
            "report",
            "--plan=lto/plan.json",
            "--manifest=manifest.json",
            "--remarks=x/remarks",
            "--remarks=lto/main.o.remarks.yaml",
            "--out=r.html",
        ]));
        root.join("r.html")
    })
    .unwrap();
    let d = data(&html);
    let used = position(&d, "x/members/used.o");
    // Each remarks file found its backend: the members' by their name in the remarks directory.
    for m in ["obj/main.o", "x/members/used.o", "x/members/unused.o"] {
        assert!(!d["modules"]["remarks"][position(&d, m)].is_null(), "{m}: {}", d["modules"]["remarks"]);
    }
    assert_eq!(d["modules"]["lazy"][used], 1);
    assert_eq!(d["owners"][d["modules"]["owner"][used].as_u64().unwrap() as usize], "//lib:lib");
    let inlined: Vec<(String, String)> = d["inlines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r[5] == 1 && r[4] == used)
        .map(|r| {
            (
                d["names"][r[2].as_u64().unwrap() as usize].to_string(),
                d["names"][r[1].as_u64().unwrap() as usize].to_string(),
            )
        })
        .collect();
    assert_eq!(inlined, [("\"used\"".to_string(), "\"main\"".to_string())]);
}
