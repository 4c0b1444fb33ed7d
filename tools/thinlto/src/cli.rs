//! The command line: one subcommand per step of the pipeline.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "thinlto",
    version,
    about = "Distributed ThinLTO steps for build systems: thin link, backend, final link."
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
    /// index and imports list (and pack and own plan, where the manifest
    /// declares them), the plan, and the final link's param file.
    Index {
        #[arg(long)]
        manifest: PathBuf,
        #[command(flatten)]
        root: ExecRoot,
        /// Write the plan (JSON) here.
        #[arg(long)]
        plan: String,
        /// Write the final link's param file here.
        #[arg(long)]
        final_link_params: String,
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
        /// The module's import pack (written by `index`): the imported
        /// modules, exactly what the imports list names. Without it they are
        /// read from the exec root.
        #[arg(long)]
        import_pack: Option<String>,
        /// The object to write.
        #[arg(long)]
        out: String,
        /// Split DWARF: write the object's debug info to this `.dwo` (its
        /// skeleton unit names it by this path).
        #[arg(long)]
        dwo: Option<String>,
        /// The compiler and its flags.
        #[arg(last = true, required = true)]
        compiler: Vec<String>,
    },
    /// Run the backends of an extracted archive's bitcode members, one after
    /// the other, each from its pack (for a build system that declares one
    /// action per archive, not per member: Bazel).
    ArchiveBackends {
        #[command(flatten)]
        root: ExecRoot,
        /// The fragment `thinlto extract` wrote for the archive.
        #[arg(long)]
        fragment: String,
        /// Where `thinlto extract` wrote the members.
        #[arg(long)]
        members: String,
        /// Where the thin link wrote the members' indexes, imports lists and packs.
        #[arg(long)]
        outputs: String,
        /// Where to write the members' objects.
        #[arg(long)]
        objects: String,
        /// The compiler and its flags.
        #[arg(last = true, required = true)]
        compiler: Vec<String>,
    },
    /// Run rustc with environment variables that hold exec-root-relative paths
    /// made absolute (OUT_DIR: `include!` resolves a relative path against the
    /// including file) and the exec root remapped to `.` in what it records.
    Rustc {
        /// A variable to make absolute (repeatable).
        #[arg(long = "absolute-env")]
        absolute_env: Vec<String>,
        /// rustc and its arguments.
        #[arg(last = true, required = true)]
        rustc: Vec<String>,
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
    /// Split an archive into member files and describe them (a fragment, JSON).
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
            Command::Backend { .. } => "backend",
            Command::ArchiveBackends { .. } => "archive-backends",
            Command::Link { .. } => "link",
            Command::Rustc { .. } => "rustc",
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
