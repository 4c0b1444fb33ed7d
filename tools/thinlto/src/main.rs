use anyhow::{Context, Result};
use clap::Parser;
use std::process::ExitCode;
use thinlto::cli::{Cli, Command};
use thinlto::execpath::{ExecDir, ExecPath};
use thinlto::{atomic, backend, explain, extract, final_link, manifest, plan, report, thin_link, timings};

fn main() -> ExitCode {
    let raw: Vec<String> = std::env::args().collect();
    // A persistent worker (Bazel): each request's arguments run as a command line would.
    if let Some((prefix, no_server)) = thinlto::worker::requested(&raw) {
        return match thinlto::worker::serve(&prefix, no_server, execute) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("thinlto: worker: error: {e:#}");
                ExitCode::from(1)
            }
        };
    }
    let args = match expand_param_files(raw) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("thinlto: error: {e:#}");
            return ExitCode::from(1);
        }
    };
    ExitCode::from(execute(args))
}

/// Runs one command line (param files expanded) and returns its exit code.
fn execute(args: Vec<String>) -> u8 {
    let started = std::time::Instant::now();
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return e.exit_code() as u8;
        }
    };
    let name = cli.command.name();
    let result = run(cli);
    timings::record(name, started);
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("thinlto: error: {e:#}");
            1
        }
    }
}

/// Expands `@file` arguments (Bazel's "multiline" param files: one argument per line).
fn expand_param_files(args: Vec<String>) -> Result<Vec<String>> {
    let mut out = Vec::with_capacity(args.len());
    for (i, a) in args.into_iter().enumerate() {
        match a.strip_prefix('@') {
            Some(file) if i > 0 => {
                let text = std::fs::read_to_string(file).with_context(|| format!("cannot read param file '{file}'"))?;
                out.extend(text.lines().map(str::to_string));
            }
            _ => out.push(a),
        }
    }
    Ok(out)
}

fn exec_path(s: &str, what: &str) -> Result<ExecPath> {
    ExecPath::new(s).with_context(|| format!("--{what}"))
}

/// What `report` and `explain --why` show, read from the plan and `inputs`.
fn report_model(
    plan: &plan::Plan,
    inputs: &thinlto::cli::ReportInputs,
    timings: Option<&std::path::Path>,
) -> Result<report::Model> {
    let manifest = inputs.manifest.as_ref().map(|m| manifest::Manifest::load(m, &inputs.root.exec_root)).transpose()?;
    report::gather(&report::Inputs {
        plan,
        manifest: manifest.as_ref(),
        exec_root: &inputs.root.exec_root,
        remarks: &inputs.remarks,
        timings,
    })
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Index { manifest, root, plan, final_link_params } => {
            let m = manifest::Manifest::load(&manifest, &root.exec_root)?;
            timings::note("output", m.output.as_str());
            thin_link::index(&thin_link::IndexRequest {
                manifest: &m,
                exec_root: &root.exec_root,
                plan: &exec_path(&plan, "plan")?,
                final_link_params: &exec_path(&final_link_params, "final-link-params")?,
            })?;
        }
        Command::Backend { root, module, index, imports, import_pack, out, dwo, module_plan, remarks, compiler } => {
            timings::note("module", &module);
            let remarks_out = remarks.remarks.map(|s| exec_path(&s, "remarks")).transpose()?;
            let remarks =
                remarks_out.as_ref().map(|output| backend::Remarks { output, passes: &remarks.remarks_passes });
            backend::run(&backend::BackendRequest {
                exec_root: &root.exec_root,
                module: &exec_path(&module, "module")?,
                index: &exec_path(&index, "index")?,
                imports: &exec_path(&imports, "imports")?,
                import_pack: import_pack.map(|s| exec_path(&s, "import-pack")).transpose()?.as_ref(),
                output: &exec_path(&out, "out")?,
                dwo: dwo.map(|s| exec_path(&s, "dwo")).transpose()?.as_ref(),
                module_plan: module_plan.map(|s| exec_path(&s, "module-plan")).transpose()?.as_ref(),
                remarks: remarks.as_ref(),
                compiler: &compiler,
            })?;
        }
        Command::ArchiveBackends {
            root,
            fragment,
            members,
            outputs,
            objects,
            remarks_dir,
            remarks_passes,
            compiler,
        } => {
            let dir = |s: &str, what: &str| ExecDir::new(s).with_context(|| format!("--{what}"));
            let fragment = exec_path(&fragment, "fragment")?;
            let archive = extract::Fragment::read(&fragment.under(&root.exec_root))?.archive;
            let extracted = manifest::Extracted {
                archive,
                fragment,
                members: dir(&members, "members")?,
                whole: false,
                outputs: dir(&outputs, "outputs")?,
                objects: dir(&objects, "objects")?,
                owner: None,
            };
            let remarks_dir = remarks_dir.map(|s| dir(&s, "remarks-dir")).transpose()?;
            let remarks = remarks_dir.as_ref().map(|d| (d, remarks_passes.as_str()));
            backend::run_archive(&root.exec_root, &extracted, remarks, &compiler)?;
        }
        Command::Link { manifest, root, params } => {
            let m = manifest::Manifest::load(&manifest, &root.exec_root)?;
            timings::note("output", m.output.as_str());
            final_link::link(&m, &root.exec_root, &params)?;
        }
        Command::Extract { root, archive, out_dir, fragment } => {
            let archive = exec_path(&archive, "archive")?;
            let out_dir = ExecDir::new(&out_dir).context("--out-dir")?;
            let f = extract::extract(&extract::ExtractRequest {
                exec_root: &root.exec_root,
                archive: &archive,
                out_dir: &out_dir,
            })?;
            let mut bytes = serde_json::to_vec_pretty(&f)?;
            bytes.push(b'\n');
            atomic::write(&root.exec_root.join(fragment), &bytes)?;
        }
        Command::Explain { plan, why: None, .. } => {
            print!("{}", explain::explain(&plan::Plan::read(&plan)?));
        }
        Command::Explain { plan, why: Some(why), inputs } => {
            let plan = plan::Plan::read(&plan)?;
            let model = report_model(&plan, &inputs, None)?;
            print!("{}", explain::why(&model, &why)?);
        }
        Command::Report { plan, inputs, timings, out } => {
            let plan = plan::Plan::read(&plan)?;
            let model = report_model(&plan, &inputs, timings.as_deref())?;
            atomic::write(&out, report::render(&model).as_bytes())?;
        }
    }
    Ok(())
}
