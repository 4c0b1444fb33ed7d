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

/// Optimization remarks of one backend, for `thinlto report` (off by default:
/// a normal build pays nothing).
#[derive(Debug, Args)]
pub struct RemarksArgs {
    /// Write the backend's optimization remarks (clang's YAML records) here;
    /// `thinlto report` looks for them at `<object>.remarks.yaml`.
    #[arg(long, value_name = "FILE")]
    pub remarks: Option<String>,
    /// The passes whose remarks to write (a regex, as clang's -foptimization-record-passes).
    #[arg(long, default_value = "inline", value_name = "REGEX", requires = "remarks")]
    pub remarks_passes: String,
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
        /// The module's own plan (written by `index` where the manifest
        /// declares one): the backend checks its module and imports against
        /// the digests the thin link recorded there.
        #[arg(long)]
        module_plan: Option<String>,
        #[command(flatten)]
        remarks: RemarksArgs,
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
        /// Write each member M's optimization remarks to DIR/M.remarks.yaml.
        #[arg(long, value_name = "DIR")]
        remarks_dir: Option<String>,
        /// The passes whose remarks to write (a regex, as clang's -foptimization-record-passes).
        #[arg(long, default_value = "inline", value_name = "REGEX")]
        remarks_passes: String,
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
    /// Explain a plan: what was loaded, what each backend imports; with
    /// --why, why one module is imported where it is, or where one function
    /// went.
    Explain {
        #[arg(long)]
        plan: PathBuf,
        /// A module (its path, or its path's end) or a symbol (as linked, or
        /// demangled): which modules import it and what they take from it,
        /// or which backends imported the function and whether it was inlined.
        #[arg(long, value_name = "MODULE_OR_SYMBOL")]
        why: Option<String>,
        #[command(flatten)]
        inputs: ReportInputs,
    },
    /// Write one self-contained HTML file showing what ThinLTO did to a
    /// program: the import graph by target and by module and why each import
    /// was made, each backend's inputs and time, the critical path, inlining
    /// across the language boundary, modules never loaded or never imported,
    /// and stale backends (docs/report.md).
    Report {
        #[arg(long)]
        plan: PathBuf,
        #[command(flatten)]
        inputs: ReportInputs,
        /// The timings of the steps: JSON lines, `{"module": PATH, "seconds": S}`,
        /// `{"step": "index"|"link", "seconds": S}`, or what THINLTO_TIMINGS appends.
        #[arg(long, value_name = "FILE")]
        timings: Option<PathBuf>,
        /// Write the report (HTML) here.
        #[arg(long)]
        out: PathBuf,
    },
}

/// What `report` and `explain --why` read besides the plan.
#[derive(Debug, Args)]
pub struct ReportInputs {
    /// The link's manifest: which modules are lazy members, where packs are.
    #[arg(long)]
    pub manifest: Option<PathBuf>,
    #[command(flatten)]
    pub root: ExecRoot,
    /// The backends' optimization remarks (`backend --remarks`): files, or
    /// directories searched for `*.yaml`. Repeatable.
    #[arg(long, value_name = "FILE_OR_DIR")]
    pub remarks: Vec<PathBuf>,
}

impl Command {
    /// The subcommand's name, as typed.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Index { .. } => "index",
            Command::Backend { .. } => "backend",
            Command::ArchiveBackends { .. } => "archive-backends",
            Command::Link { .. } => "link",
            Command::Extract { .. } => "extract",
            Command::Explain { .. } => "explain",
            Command::Report { .. } => "report",
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
