use anyhow::{Context, Result};
use clap::Parser;
use std::process::ExitCode;
use thinlto::cli::{Cli, Command};
use thinlto::execpath::{ExecDir, ExecPath};
use thinlto::{atomic, backend, explain, extract, final_link, manifest, plan, thin_link, timings};

fn main() -> ExitCode {
    let args = match expand_param_files(std::env::args().collect()) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("thinlto: error: {e:#}");
            return ExitCode::from(1);
        }
    };
    let started = std::time::Instant::now();
    let cli = Cli::parse_from(args);
    let name = cli.command.name();
    let result = run(cli);
    timings::record(name, started);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("thinlto: error: {e:#}");
            ExitCode::from(1)
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

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Index { manifest, root, plan, final_link_params } => {
            let m = manifest::Manifest::load(&manifest, &root.exec_root)?;
            thin_link::index(&thin_link::IndexRequest {
                manifest: &m,
                exec_root: &root.exec_root,
                plan: &exec_path(&plan, "plan")?,
                final_link_params: &exec_path(&final_link_params, "final-link-params")?,
            })?;
        }
        Command::Backend { root, module, index, imports, import_pack, out, dwo, compiler } => {
            backend::run(&backend::BackendRequest {
                exec_root: &root.exec_root,
                module: &exec_path(&module, "module")?,
                index: &exec_path(&index, "index")?,
                imports: &exec_path(&imports, "imports")?,
                import_pack: import_pack.map(|s| exec_path(&s, "import-pack")).transpose()?.as_ref(),
                output: &exec_path(&out, "out")?,
                dwo: dwo.map(|s| exec_path(&s, "dwo")).transpose()?.as_ref(),
                compiler: &compiler,
            })?;
        }
        Command::ArchiveBackends { root, fragment, members, outputs, objects, compiler } => {
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
            backend::run_archive(&root.exec_root, &extracted, &compiler)?;
        }
        Command::Rustc { absolute_env, rustc } => {
            let cwd = std::env::current_dir().context("cannot read the current directory")?;
            let (program, args) = rustc.split_first().expect("clap requires it");
            let mut cmd = std::process::Command::new(program);
            cmd.args(args).arg(format!("--remap-path-prefix={}=.", cwd.display()));
            for name in &absolute_env {
                let value = std::env::var_os(name).with_context(|| format!("--absolute-env {name}: not set"))?;
                cmd.env(name, cwd.join(value));
            }
            let status = cmd.status().with_context(|| format!("cannot run '{program}'"))?;
            if !status.success() {
                anyhow::bail!("rustc failed ({status})");
            }
        }
        Command::Link { manifest, root, params } => {
            let m = manifest::Manifest::load(&manifest, &root.exec_root)?;
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
        Command::Explain { plan } => {
            print!("{}", explain::explain(&plan::Plan::read(&plan)?));
        }
    }
    Ok(())
}
