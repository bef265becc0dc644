//! The ready-to-copy workflow `.github/workflows/benchmark-report.yml`:
//! valid YAML, the jobs and actions README describes, and every
//! `sagereport` command in it is a real subcommand with real flags.

use assert_cmd::Command;
use std::collections::BTreeSet;
use yaml_rust2::{Yaml, YamlLoader};

const WORKFLOW: &str = include_str!("../.github/workflows/benchmark-report.yml");

fn workflow() -> Yaml {
    let mut docs = YamlLoader::load_from_str(WORKFLOW).expect("benchmark-report.yml is not valid YAML");
    assert_eq!(docs.len(), 1);
    docs.remove(0)
}

fn steps(job: &Yaml) -> &Vec<Yaml> {
    job["steps"].as_vec().expect("job without steps")
}

/// `sagereport SUB --flag …` invocations of all `run:` scripts, with line
/// continuations joined: (subcommand, flags).
fn invocations(doc: &Yaml) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    // Commands in the workflow's env (BENCH_COMMAND) and in every run: script.
    let env_scripts: Vec<&str> = doc["env"]
        .as_hash()
        .map(|h| h.values().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default();
    let step_scripts: Vec<&str> = doc["jobs"]
        .as_hash()
        .unwrap()
        .values()
        .flat_map(|job| steps(job).iter().filter_map(|s| s["run"].as_str()))
        .collect();
    for script in env_scripts.into_iter().chain(step_scripts) {
        {
            let joined = script.replace("\\\n", " ");
            for line in joined.lines() {
                let words: Vec<&str> = line.split_whitespace().collect();
                for (i, w) in words.iter().enumerate() {
                    if *w != "sagereport" || i + 1 >= words.len() {
                        continue;
                    }
                    // `cargo install … sagereport` names the package, not the command.
                    if words[..i].contains(&"install") {
                        continue;
                    }
                    let flags = words[i + 2..]
                        .iter()
                        .take_while(|w| !matches!(**w, "|" | "||" | "&&" | ";"))
                        .filter(|w| w.starts_with("--"))
                        .map(|w| w.split('=').next().unwrap().to_string())
                        .collect();
                    out.push((words[i + 1].to_string(), flags));
                }
            }
        }
    }
    out
}

#[test]
fn workflow_runs_compare_on_pull_requests_and_deploys_pages_on_the_default_branch() {
    let doc = workflow();
    let on = &doc["on"];
    assert!(!on["pull_request"].is_badvalue(), "runs on pull requests");
    assert!(!on["push"].is_badvalue(), "runs on pushes");

    let jobs = doc["jobs"].as_hash().unwrap();
    let uses: BTreeSet<String> = jobs
        .values()
        .flat_map(|j| steps(j).iter().filter_map(|s| s["uses"].as_str()))
        .map(|u| u.split('@').next().unwrap().to_string())
        .collect();
    for action in [
        "actions/checkout",
        "actions/upload-artifact",
        "actions/upload-pages-artifact",
        "actions/deploy-pages",
    ] {
        assert!(uses.contains(action), "{action} missing; uses: {uses:?}");
    }

    let pr = &doc["jobs"]["pull-request"];
    assert_eq!(
        pr["permissions"]["pull-requests"].as_str(),
        Some("write"),
        "the PR job must be allowed to comment"
    );
    let deploy = &doc["jobs"]["deploy"];
    assert_eq!(deploy["permissions"]["pages"].as_str(), Some("write"));
    assert_eq!(deploy["permissions"]["id-token"].as_str(), Some("write"));
    assert_eq!(deploy["environment"]["name"].as_str(), Some("github-pages"));
    assert_eq!(deploy["needs"].as_str(), Some("site"));

    // The comment is posted from the file compare wrote, and the gate runs last.
    let pr_scripts: Vec<&str> = steps(pr).iter().filter_map(|s| s["run"].as_str()).collect();
    assert!(pr_scripts.iter().any(|s| s.contains("--pr-comment comment.md")));
    // Posted by finding our marked comment (tests/sticky_comment.rs runs that step).
    assert!(pr_scripts.iter().any(|s| s.contains("gh api")
        && s.contains("issues/comments/$id")
        && s.contains("body=@$body")
        && s.contains("body=comment.md")));
    assert!(
        !WORKFLOW.contains("--edit-last"),
        "--edit-last edits the token user's last comment, maybe another workflow's"
    );
    assert!(
        pr_scripts.last().unwrap().contains("exit \"$code\""),
        "the gate must be the last step"
    );
    let site_scripts: Vec<&str> = steps(&doc["jobs"]["site"])
        .iter()
        .filter_map(|s| s["run"].as_str())
        .collect();
    assert!(site_scripts
        .iter()
        .any(|s| s.contains("sagereport site") && s.contains("--history")));
}

#[test]
fn every_sagereport_command_and_flag_in_the_workflow_exists() {
    let calls = invocations(&workflow());
    let subcommands: BTreeSet<&str> = calls.iter().map(|(s, _)| s.as_str()).collect();
    assert!(
        subcommands.contains("compare") && subcommands.contains("site") && subcommands.contains("run"),
        "{subcommands:?}"
    );
    let compare_flags = &calls.iter().find(|(s, _)| s == "compare").unwrap().1;
    for flag in ["--pr-comment", "--fail-on", "--threshold", "--label"] {
        assert!(
            compare_flags.iter().any(|f| f == flag),
            "{flag} not parsed from the compare step: {compare_flags:?}"
        );
    }
    for (sub, flags) in &calls {
        let out = Command::cargo_bin("sagereport")
            .unwrap()
            .args([sub.as_str(), "--help"])
            .output()
            .unwrap();
        assert!(out.status.success(), "`sagereport {sub}` is not a command");
        let help = String::from_utf8_lossy(&out.stdout);
        for flag in flags {
            assert!(
                help.split(|c: char| c.is_whitespace() || c == ',' || c == '[' || c == ']')
                    .any(|w| w == flag),
                "`sagereport {sub}` has no flag {flag}"
            );
        }
    }
}

#[test]
fn workflow_env_names_every_variable_its_scripts_use() {
    let doc = workflow();
    let env: BTreeSet<&str> = doc["env"]
        .as_hash()
        .unwrap()
        .keys()
        .filter_map(|k| k.as_str())
        .collect();
    for var in [
        "BENCH_COMMAND",
        "SAGEREPORT_GIT",
        "SAGEREPORT_REF",
        "REGRESSION_THRESHOLD",
        "HISTORY_BRANCH",
    ] {
        assert!(env.contains(var), "{var} not in the workflow's env");
        assert!(
            WORKFLOW.matches(&format!("${var}")).count() + WORKFLOW.matches(&format!("env.{var}")).count() > 0,
            "{var} unused"
        );
    }
}

/// Each action the workflow may use, with the first major version whose
/// runtime is node24 (node20 leaves GitHub's runners on 2026-09-23), read
/// from `runs.using` in the action.yml of each major tag:
/// checkout v4 node20, v5–v7 node24; cache v4 node20, v5 node24;
/// upload-artifact v4–v5 node20, v6–v7 node24; deploy-pages v4 node20, v5
/// node24; upload-pages-artifact is composite and v3/v4 call
/// upload-artifact v4 (node20), v5 calls upload-artifact v7.
/// An action not listed here fails the test: find its runtime, then add it.
const NODE24_SINCE: [(&str, u32); 5] = [
    ("actions/checkout", 5),
    ("actions/cache", 5),
    ("actions/upload-artifact", 6),
    ("actions/upload-pages-artifact", 5),
    ("actions/deploy-pages", 5),
];

#[test]
fn every_action_is_a_major_version_that_runs_on_node24() {
    let doc = workflow();
    let mut seen = BTreeSet::new();
    for (name, job) in doc["jobs"].as_hash().unwrap() {
        let name = name.as_str().unwrap();
        for step in steps(job) {
            let Some(uses) = step["uses"].as_str() else { continue };
            let (action, version) = uses.split_once('@').unwrap_or_else(|| panic!("{uses}: no version"));
            let major: u32 = version
                .strip_prefix('v')
                .filter(|v| !v.contains('.'))
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{uses} (job {name:?}): pin a major tag like @v5"));
            let since = NODE24_SINCE
                .iter()
                .find(|(a, _)| *a == action)
                .unwrap_or_else(|| {
                    panic!("{action}: unknown runtime; check its action.yml runs.using and add it to NODE24_SINCE")
                })
                .1;
            assert!(
                major >= since,
                "{uses} (job {name:?}) runs on node20 or older; node24 since v{since}"
            );
            seen.insert(action);
        }
    }
    // The table is not stale: every action in it is used (so the check covers them all).
    for (action, _) in NODE24_SINCE {
        assert!(
            seen.contains(action),
            "{action} no longer used: drop it from NODE24_SINCE"
        );
    }
}
