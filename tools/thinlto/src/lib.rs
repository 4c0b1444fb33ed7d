//! `thinlto`: the helper behind rules_thinlto's Bazel and Buck2 rules.
//!
//! One link goes through three kinds of build action: the thin link
//! ([`thin_link`]: per-module indexes, imports lists and import packs, and
//! the [`plan`]), one backend per module ([`backend`]), and the final link
//! ([`final_link`]). The [`manifest`] describes the link's inputs and where
//! each module's files go; [`extract`] splits archives into members the thin
//! link can name.

pub mod atomic;
pub mod backend;
pub mod bitcode;
pub mod clang_server;
pub mod cli;
pub mod command;
pub mod digest;
pub mod execpath;
pub mod explain;
pub mod extract;
pub mod final_link;
pub mod linelist;
pub mod magic;
pub mod manifest;
pub mod pack;
pub mod paramfile;
pub mod plan;
pub mod remarks;
pub mod report;
pub mod stale;
pub mod thin_link;
pub mod timings;
pub mod worker;
