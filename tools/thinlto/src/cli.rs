//! The command line: one subcommand per step of the pipeline.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "thinlto",
    version,
    about = "Distributed ThinLTO steps for build systems: thin link, plan, backend, final link."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct ExecRoot {
    /// The directory every manifest path is relative to.
    #[arg(long, default_value = ".")]
    pub exec_root: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the thin link (index only) for a manifest; write each module's
    /// index and imports list, the plan, and the final link's param file.
    Index {
        #[arg(long)]
        manifest: PathBuf,
        #[command(flatten)]
        root: ExecRoot,
        /// Write the plan (JSON) here.
        #[arg(long)]
        plan: Option<PathBuf>,
        /// Write the final link's param file here.
        #[arg(long)]
        final_link_params: Option<PathBuf>,
        /// Write the index list (backend objects of loaded modules) here.
        #[arg(long)]
        index_list: Option<PathBuf>,
        /// Also write each module's imports into `<object>.bundle/`.
        #[arg(long)]
        bundles: bool,
        /// Also write each module's imports into one file, `<object>.pack`.
        #[arg(long)]
        packs: bool,
        /// Also write each module's own plan to `<object>.plan.json`.
        #[arg(long)]
        module_plans: bool,
    },
    /// Build the plan from a thin link that already ran (its outputs under
    /// the manifest's `prefix_replace.new`).
    Plan {
        #[arg(long)]
        manifest: PathBuf,
        #[command(flatten)]
        root: ExecRoot,
        /// The index list the thin link wrote.
        #[arg(long)]
        index_list: PathBuf,
        /// Write the plan (JSON) here.
        #[arg(long)]
        out: PathBuf,
        /// Also write, per module, `<object>.inputs`: its backend's inputs, one per line.
        #[arg(long)]
        backend_params: bool,
        /// Also write the final link's param file here.
        #[arg(long)]
        final_link_params: Option<PathBuf>,
    },
    /// Run one backend compile, checked: fails on an error clang printed
    /// while exiting 0, or an empty object.
    Backend {
        #[command(flatten)]
        root: ExecRoot,
        /// The module's bitcode.
        #[arg(long)]
        module: String,
        /// The module's index (`.thinlto.bc`).
        #[arg(long)]
        index: String,
        /// The module's imports list (`.imports`).
        #[arg(long)]
        imports: String,
        /// Directory holding the imported modules at their exec-root paths
        /// (a bundle); default: the exec root.
        #[arg(long, conflicts_with = "import_pack")]
        import_root: Option<String>,
        /// A pack holding the imported modules (written by `index --packs`),
        /// holding exactly what the imports list names. clang reads them in the
        /// exec root if it holds them byte for byte, else unpacked into the
        /// private directory it runs in.
        #[arg(long)]
        import_pack: Option<String>,
        /// The object to write.
        #[arg(long)]
        out: String,
        /// Run clang in the exec root instead of a private directory holding
        /// only the module, its index and its imports: no file system entry
        /// per import (a module importing 1,000 others saves ~0.5 s), but
        /// nothing stops clang from reading a file the imports list does not
        /// name. For actions that declare every module anyway.
        #[arg(long, conflicts_with_all = ["import_root", "import_pack"])]
        in_exec_root: bool,
        /// Write Bazel's unused_inputs_list here (needs --bitcode-list).
        #[arg(long, requires = "bitcode_list")]
        unused_inputs_list: Option<String>,
        /// Every bitcode module the action declares, one per line.
        #[arg(long)]
        bitcode_list: Option<String>,
        /// The compiler and its flags.
        #[arg(last = true, required = true)]
        compiler: Vec<String>,
    },
    /// Run the final link from the param file `index` wrote.
    Link {
        #[arg(long)]
        manifest: PathBuf,
        #[command(flatten)]
        root: ExecRoot,
        #[arg(long)]
        params: PathBuf,
    },
    /// Split an archive into member files and print a manifest fragment.
    Extract {
        #[command(flatten)]
        root: ExecRoot,
        #[arg(long)]
        archive: String,
        /// Directory (exec-root relative) for the member files.
        #[arg(long)]
        out_dir: String,
        /// Write the fragment (JSON) here.
        #[arg(long)]
        fragment: PathBuf,
        /// The owner label recorded with each member.
        #[arg(long)]
        owner: Option<String>,
        /// Link every member, as `--whole-archive` would.
        #[arg(long)]
        whole: bool,
    },
    /// Explain a plan: what was loaded, what each backend imports.
    Explain {
        #[arg(long)]
        plan: PathBuf,
    },
}

impl Command {
    /// The subcommand's name, as typed.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Index { .. } => "index",
            Command::Plan { .. } => "plan",
            Command::Backend { .. } => "backend",
            Command::Link { .. } => "link",
            Command::Extract { .. } => "extract",
            Command::Explain { .. } => "explain",
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn verify_cli() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
