//! `sagereport completions SHELL` and `sagereport man [COMMAND]`: the binary
//! prints scripts and pages that name the real commands and flags, refuses
//! an unknown shell or command, and fails cleanly on an unwritable stdout.

use assert_cmd::Command;

fn sagereport(args: &[&str]) -> (i32, String, String) {
    let out = Command::cargo_bin("sagereport").unwrap().args(args).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const SUBCOMMANDS: [&str; 12] = [
    "validate",
    "compare",
    "tables",
    "pdf",
    "run",
    "paired",
    "demo",
    "site",
    "synth",
    "bench",
    "completions",
    "man",
];

#[test]
fn bash_completion_names_every_command_and_completes_them_in_bash() {
    let (code, script, err) = sagereport(&["completions", "bash"]);
    assert_eq!(code, 0, "{err}");
    assert!(script.contains("sagereport"), "{script}");
    assert!(
        script.contains("complete -F _sagereport"),
        "registers a completion function"
    );
    for sub in SUBCOMMANDS {
        assert!(script.contains(sub), "bash completion lacks {sub}");
    }
    assert!(
        script.contains("--fail-on") && script.contains("--pr-comment"),
        "compare's flags are completed"
    );

    // The script works in bash: `sagereport com<TAB>` offers compare and completions.
    if std::process::Command::new("bash")
        .arg("-c")
        .arg("true")
        .status()
        .map(|s| !s.success())
        .unwrap_or(true)
    {
        eprintln!("skipped the bash run: no bash");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sagereport.bash");
    std::fs::write(&path, &script).unwrap();
    let probe = format!(
        "source '{}'; COMP_WORDS=(sagereport com); COMP_CWORD=1; COMP_LINE='sagereport com'; COMP_POINT=${{#COMP_LINE}}; \
         _sagereport sagereport com sagereport; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        path.display()
    );
    let out = std::process::Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &probe])
        .output()
        .unwrap();
    let offered = String::from_utf8_lossy(&out.stdout);
    let mut offered: Vec<&str> = offered.lines().collect();
    offered.sort();
    assert_eq!(
        offered,
        ["compare", "completions"],
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn zsh_fish_powershell_and_elvish_completions_are_scripts_for_sagereport() {
    for (shell, sign) in [
        ("zsh", "#compdef sagereport"),
        ("fish", "complete -c sagereport"),
        ("powershell", "Register-ArgumentCompleter"),
        ("elvish", "edit:completion:arg-completer[sagereport]"),
    ] {
        let (code, script, err) = sagereport(&["completions", shell]);
        assert_eq!(code, 0, "{shell}: {err}");
        assert!(script.contains(sign), "{shell} completion lacks {sign:?}");
        assert!(
            script.contains("compare") && script.contains("--threshold"),
            "{shell} completion lacks compare --threshold"
        );
    }
}

#[test]
fn completions_are_deterministic() {
    for shell in ["bash", "zsh", "fish"] {
        assert_eq!(
            sagereport(&["completions", shell]).1,
            sagereport(&["completions", shell]).1,
            "{shell}"
        );
    }
    assert_eq!(sagereport(&["man"]).1, sagereport(&["man"]).1);
}

#[test]
fn an_unknown_shell_is_a_usage_error() {
    let (code, out, err) = sagereport(&["completions", "tcsh"]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(
        err.contains("invalid value 'tcsh'") && err.contains("possible values") && err.contains("bash"),
        "{err}"
    );
    let (code, _, err) = sagereport(&["completions"]);
    assert_eq!(code, 2, "a shell is required: {err}");
}

#[test]
fn man_page_is_roff_and_lists_every_command() {
    let (code, page, err) = sagereport(&["man"]);
    assert_eq!(code, 0, "{err}");
    let th = page.lines().find(|l| l.starts_with(".TH")).expect("a .TH title line");
    assert!(th.starts_with(".TH sagereport 1"), "{th}");
    // Only clap_mangen's string definitions may come before the title.
    assert!(
        page.lines()
            .take_while(|l| !l.starts_with(".TH"))
            .all(|l| l.starts_with(".ie") || l.starts_with(".el")),
        "{page}"
    );
    for section in [".SH NAME", ".SH SYNOPSIS", ".SH OPTIONS", ".SH SUBCOMMANDS"] {
        assert!(page.contains(section), "{section} missing");
    }
    for sub in SUBCOMMANDS {
        assert!(
            page.contains(&format!("sagereport\\-{}", sub.replace('-', "\\-"))),
            "man page lacks {sub}"
        );
    }
    assert!(page.contains(env!("CARGO_PKG_VERSION")));
}

#[test]
fn man_page_of_one_command_has_its_flags() {
    let (code, page, err) = sagereport(&["man", "compare"]);
    assert_eq!(code, 0, "{err}");
    assert!(page.contains(".TH sagereport-compare 1"), "{page}");
    assert!(
        page.contains("\\-\\-fail\\-on") && page.contains("\\-\\-threshold"),
        "compare's flags"
    );
    assert!(
        page.contains("sagereport compare"),
        "synopsis names the command as typed"
    );

    let (code, out, err) = sagereport(&["man", "nope"]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(err.contains("no command \"nope\"") && err.contains("compare"), "{err}");
}

#[test]
fn help_lists_completions_and_man() {
    let (code, help, _) = sagereport(&["--help"]);
    assert_eq!(code, 0);
    assert!(help.contains("completions") && help.contains("man "), "{help}");
    let (code, help, _) = sagereport(&["completions", "--help"]);
    assert_eq!(code, 0);
    assert!(
        help.contains("[possible values: bash, elvish, fish, powershell, zsh]"),
        "{help}"
    );
}

#[test]
fn a_closed_stdout_is_an_error_not_a_panic() {
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
        eprintln!("skipped: no /dev/full");
        return;
    };
    for args in [
        vec!["completions", "bash"],
        vec!["completions", "zsh"],
        vec!["man"],
        vec!["man", "compare"],
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_sagereport"))
            .args(&args)
            .stdout(full.try_clone().unwrap())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("cannot write to standard output"), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}
