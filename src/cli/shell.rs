//! `sagereport completions SHELL` and `sagereport man [COMMAND]`: the shell
//! completion script and the roff man page, both generated from the same
//! clap definition as `--help`, printed on stdout (nothing is written to
//! disk, so no output-ownership question arises).

use super::Cli;
use clap::{Args, CommandFactory};

pub const COMPLETIONS_EXAMPLES: &str = "Examples:\n  \
    sagereport completions bash > ~/.local/share/bash-completion/completions/sagereport\n  \
    sagereport completions zsh > ~/.zfunc/_sagereport      # with fpath+=(~/.zfunc) before compinit\n  \
    sagereport completions fish > ~/.config/fish/completions/sagereport.fish\n  \
    sagereport completions powershell >> $PROFILE";

pub const MAN_EXAMPLES: &str = "Examples:\n  \
    sagereport man > sagereport.1 && man ./sagereport.1\n  \
    sagereport man compare | man -l -\n  \
    for c in compare site; do sagereport man $c > sagereport-$c.1; done";

#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

#[derive(Args, Debug)]
pub struct ManArgs {
    /// The page of this command (e.g. compare) instead of the overview page, sagereport(1)
    #[arg(value_name = "COMMAND")]
    pub command: Option<String>,
}

/// The full command tree, built (subcommands carry their display and bin
/// names, e.g. `sagereport-compare` / `sagereport compare`).
fn command() -> clap::Command {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    cmd
}

fn write_all(bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    std::io::stdout().lock().write_all(bytes).map_err(super::stdout_error)
}

pub fn completions(args: &CompletionsArgs) -> anyhow::Result<u8> {
    let mut cmd = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "sagereport", &mut script);
    write_all(&script)?;
    Ok(super::EXIT_OK)
}

pub fn man(args: &ManArgs) -> anyhow::Result<u8> {
    let root = command();
    let page = match &args.command {
        None => root,
        Some(name) => match root.find_subcommand(name) {
            Some(sub) => sub.clone(),
            None => {
                let names: Vec<&str> = root.get_subcommands().map(|s| s.get_name()).collect();
                anyhow::bail!("no command {name:?} for a man page; one of: {}", names.join(", "));
            }
        },
    };
    let mut roff = Vec::new();
    clap_mangen::Man::new(page)
        .source(format!("sagereport {}", env!("CARGO_PKG_VERSION")))
        .manual("sagereport manual")
        .render(&mut roff)?;
    write_all(&roff)?;
    Ok(super::EXIT_OK)
}
