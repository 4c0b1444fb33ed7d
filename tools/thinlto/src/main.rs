use anyhow::{Context, Result};
use clap::Parser;
use std::process::ExitCode;
use thinlto::cli::{Cli, Command};
use thinlto::execpath::{ExecDir, ExecPath};
use thinlto::{atomic, backend, explain, extract, final_link, linelist, manifest, paramfile, plan, thin_link, timings};

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
        Command::Index { manifest, root, plan, final_link_params, index_list, bundles, packs, module_plans } => {
            let m = manifest::Manifest::read(&manifest)?;
            thin_link::index(&thin_link::IndexRequest {
                manifest: &m,
                exec_root: &root.exec_root,
                plan: plan.as_deref(),
                final_link_params: final_link_params.as_deref(),
                index_list: index_list.as_deref(),
                bundles,
                packs,
                module_plans,
            })?;
        }
        Command::Plan { manifest, root, index_list, out, backend_params, final_link_params } => {
            let m = manifest::Manifest::read(&manifest)?;
            let list_disk = root.exec_root.join(&index_list);
            let entries = linelist::read(&list_disk)?;
            let p = plan::build(&m, &root.exec_root, &m.prefix_replace.new, &list_disk, &entries)?;
            let mut outputs = atomic::OutputSet::new();
            outputs.add_with(&root.exec_root.join(&out), |w| p.write_json(w))?;
            if backend_params {
                for mp in &p.modules {
                    let f = mp.object.with_suffix(".inputs");
                    outputs.add(&f.under(&root.exec_root), &linelist::render(p.backend_inputs(mp)))?;
                }
            }
            if let Some(params) = final_link_params {
                outputs.add(&root.exec_root.join(params), &paramfile::render(&final_link::final_link_args(&m, &p)))?;
            }
            outputs.commit()?;
            // The process ends here: freeing a large plan (millions of imports
            // of 100,000 modules) piece by piece would only cost time.
            std::mem::forget((m, entries, p));
        }
        Command::Backend {
            root,
            module,
            index,
            imports,
            import_root,
            import_pack,
            out,
            in_exec_root,
            unused_inputs_list,
            bitcode_list,
            compiler,
        } => {
            let module = exec_path(&module, "module")?;
            let index = exec_path(&index, "index")?;
            let imports = exec_path(&imports, "imports")?;
            let import_root = import_root.map(|s| exec_path(&s, "import-root")).transpose()?;
            let import_pack = import_pack.map(|s| exec_path(&s, "import-pack")).transpose()?;
            let out = exec_path(&out, "out")?;
            let unused = unused_inputs_list.map(|s| exec_path(&s, "unused-inputs-list")).transpose()?;
            let list = bitcode_list.map(|s| exec_path(&s, "bitcode-list")).transpose()?;
            backend::run(&backend::BackendRequest {
                exec_root: &root.exec_root,
                module: &module,
                index: &index,
                imports: &imports,
                import_root: import_root.as_ref(),
                import_pack: import_pack.as_ref(),
                output: &out,
                in_exec_root,
                compiler: &compiler,
                unused_inputs_list: unused.as_ref(),
                bitcode_list: list.as_ref(),
            })?;
        }
        Command::Link { manifest, root, params } => {
            let m = manifest::Manifest::read(&manifest)?;
            final_link::link(&m, &root.exec_root, &params)?;
        }
        Command::Extract { root, archive, out_dir, fragment, owner, whole } => {
            let archive = exec_path(&archive, "archive")?;
            let out_dir = ExecDir::new(&out_dir).context("--out-dir")?;
            let f = extract::extract(&extract::ExtractRequest {
                exec_root: &root.exec_root,
                archive: &archive,
                out_dir: &out_dir,
                owner: owner.as_deref(),
                whole,
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
