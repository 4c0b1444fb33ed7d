//! `thinlto`: the helper behind rules_thinlto's Bazel and Buck2 rules.
//!
//! One link goes through four steps, each a separate build action:
//! the thin link ([`thin_link`], writes per-module indexes and imports lists),
//! the plan ([`plan`], turns those into per-backend input lists),
//! one backend per module ([`backend`]), and the final link ([`final_link`]).
//! The [`manifest`] describes the link's inputs; [`extract`] splits archives
//! into members the thin link can name.

pub mod atomic;
pub mod backend;
pub mod cli;
pub mod command;
pub mod execpath;
pub mod explain;
pub mod extract;
pub mod final_link;
pub mod layout;
pub mod linelist;
pub mod magic;
pub mod manifest;
pub mod pack;
pub mod paramfile;
pub mod pathindex;
pub mod plan;
pub mod rust_std;
pub mod thin_link;
pub mod timings;
