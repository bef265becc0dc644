//! The workflow's "Post or update the pull-request comment" step, run as
//! GitHub runs it (`bash -e`, the step's env) against a fake `gh` on PATH
//! that serves canned comment pages and records every call: it PATCHes the
//! newest comment of the bot that carries sagereport's marker, creates one
//! when there is none, and never touches another comment.
//!
//! Needs bash and jq (the step pipes `gh api` into jq, as on GitHub's
//! runners); skips with a message without them, except under CI, where it fails.

use std::path::Path;
use std::process::Command;
use yaml_rust2::YamlLoader;

const WORKFLOW: &str = include_str!("../.github/workflows/benchmark-report.yml");
const STEP: &str = "Post or update the pull-request comment";

/// The step's `run:` script and its `env:` (expressions left out).
fn step() -> (String, Vec<(String, String)>) {
    let doc = YamlLoader::load_from_str(WORKFLOW).unwrap().remove(0);
    let steps = doc["jobs"]["pull-request"]["steps"].as_vec().unwrap();
    let step = steps
        .iter()
        .find(|s| s["name"].as_str() == Some(STEP))
        .unwrap_or_else(|| panic!("no step {STEP:?}"));
    let env = step["env"]
        .as_hash()
        .unwrap()
        .iter()
        .filter_map(|(k, v)| Some((k.as_str()?.to_string(), v.as_str()?.to_string())))
        .filter(|(_, v)| !v.contains("${{"))
        .collect();
    (step["run"].as_str().unwrap().to_string(), env)
}

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

fn tools_or_skip() -> bool {
    let missing: Vec<&str> = ["bash", "jq"].into_iter().filter(|t| !have(t)).collect();
    if missing.is_empty() {
        return true;
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{missing:?} not installed (.ci/run installs them)");
    }
    eprintln!("skipped: {missing:?} not installed");
    false
}

/// A `gh` that logs its arguments (one call per line) and answers
/// `api --paginate …` with the pages in $FAKE_GH_PAGES (or fails when
/// $FAKE_GH_FAIL is set), any other call with `{}`.
const FAKE_GH: &str = r#"#!/usr/bin/env bash
printf '%s\n' "$*" >> "$FAKE_GH_LOG"
case " $* " in
  *" --paginate "*)
    if [ -n "${FAKE_GH_FAIL:-}" ]; then echo "HTTP 502: Bad Gateway" >&2; exit 1; fi
    cat "$FAKE_GH_PAGES" ;;
  *) echo '{}' ;;
esac
"#;

const MARKER: &str = sagereport::render::pr_comment::MARKER;

struct Run {
    code: i32,
    calls: Vec<String>,
    stdout: String,
    stderr: String,
}

/// Run the step in a fresh folder holding `comment.md` = `body`, with the
/// fake gh serving `pages` (each a JSON array, printed one after another as
/// `gh api --paginate` does).
fn run_step(body: &str, pages: &[serde_json::Value], extra_env: &[(&str, &str)]) -> Run {
    let (script, env) = step();
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let gh = bin.join("gh");
    std::fs::write(&gh, FAKE_GH).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&gh, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let work = dir.path().join("work");
    std::fs::create_dir(&work).unwrap();
    std::fs::write(work.join("comment.md"), body).unwrap();
    let pages_text: String = pages.iter().map(|p| format!("{p}\n")).collect();
    std::fs::write(dir.path().join("pages.json"), pages_text).unwrap();
    let script_path = dir.path().join("step.sh");
    std::fs::write(&script_path, &script).unwrap();
    let log = dir.path().join("gh.log");
    std::fs::write(&log, "").unwrap();

    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let mut cmd = Command::new("bash");
    // GitHub's default for `run:` on Linux: `bash -e {0}`.
    cmd.arg("-e").arg(&script_path).current_dir(&work).env("PATH", path);
    cmd.env("GITHUB_REPOSITORY", "octo/bench")
        .env("PR", "42")
        .env("GH_TOKEN", "not-a-token");
    cmd.env("FAKE_GH_LOG", &log)
        .env("FAKE_GH_PAGES", dir.path().join("pages.json"))
        .env_remove("FAKE_GH_FAIL");
    for (k, v) in &env {
        cmd.env(k, v);
    }
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        calls: read_lines(&log),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn read_lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn comment(id: u64, login: &str, body: Option<&str>) -> serde_json::Value {
    serde_json::json!({"id": id, "user": {"login": login, "type": "Bot"}, "body": body, "created_at": "2026-11-01T00:00:00Z"})
}

fn ours_body() -> String {
    format!("{MARKER}\n## Benchmark report\n\n3 worse, 5 better\n")
}

const GET: &str = "api --paginate repos/octo/bench/issues/42/comments?per_page=100";
const BOT: &str = "github-actions[bot]";

/// Comments no run may touch: another workflow's bot comment, a person quoting the marker,
/// a bot comment whose body is null.
fn others() -> Vec<serde_json::Value> {
    vec![
        comment(101, BOT, Some("## Coverage report\n\n92%\n")),
        comment(102, "alice", Some(&format!("Why does the bot write `{MARKER}`?"))),
        comment(103, BOT, None),
    ]
}

#[test]
fn our_comment_on_a_later_page_is_patched_and_no_other() {
    if !tools_or_skip() {
        return;
    }
    let page2 = serde_json::json!([comment(150, "bob", Some("LGTM")), comment(151, BOT, Some(&ours_body()))]);
    let r = run_step(&ours_body(), &[serde_json::Value::Array(others()), page2], &[]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(
        r.calls,
        [
            GET.to_string(),
            "api --method PATCH repos/octo/bench/issues/comments/151 -F body=@comment.md".to_string()
        ],
        "{}",
        r.stderr
    );
    assert!(r.stdout.contains("updated comment 151"), "{}", r.stdout);
}

#[test]
fn of_several_of_ours_the_newest_is_patched() {
    if !tools_or_skip() {
        return;
    }
    let mut page = others();
    page.insert(0, comment(90, BOT, Some(&ours_body())));
    page.push(comment(207, BOT, Some(&format!("{MARKER}\nolder layout"))));
    page.push(comment(208, BOT, Some("## Coverage report\n\n93%\n")));
    let r = run_step(&ours_body(), &[serde_json::Value::Array(page)], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.calls[1..],
        ["api --method PATCH repos/octo/bench/issues/comments/207 -F body=@comment.md".to_string()]
    );
}

#[test]
fn without_our_comment_one_is_created_and_nothing_is_edited() {
    if !tools_or_skip() {
        return;
    }
    for pages in [
        vec![serde_json::Value::Array(others())],
        vec![serde_json::json!([])],
        vec![],
    ] {
        let r = run_step(&ours_body(), &pages, &[]);
        assert_eq!(r.code, 0, "{pages:?}: {}", r.stderr);
        assert_eq!(
            r.calls,
            [
                GET.to_string(),
                "api --method POST repos/octo/bench/issues/42/comments -F body=@comment.md".to_string()
            ],
            "{pages:?}"
        );
        assert!(r.calls.iter().all(|c| !c.contains("PATCH")));
        assert!(r.stdout.contains("created a comment"));
    }
}

#[test]
fn the_author_is_configurable_and_the_bot_login_alone_does_not_match() {
    if !tools_or_skip() {
        return;
    }
    // With a personal token the comments are the person's: COMMENT_AUTHOR says whose.
    let page = serde_json::json!([
        comment(300, BOT, Some(&ours_body())),
        comment(301, "bench-bot", Some(&ours_body()))
    ]);
    let r = run_step(
        &ours_body(),
        std::slice::from_ref(&page),
        &[("COMMENT_AUTHOR", "bench-bot")],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.calls[1..],
        ["api --method PATCH repos/octo/bench/issues/comments/301 -F body=@comment.md".to_string()]
    );
    let r = run_step(&ours_body(), &[page], &[("COMMENT_AUTHOR", "someone-else")]);
    assert_eq!(
        r.calls[1..],
        ["api --method POST repos/octo/bench/issues/42/comments -F body=@comment.md".to_string()]
    );
}

#[test]
fn a_failed_listing_posts_nothing() {
    if !tools_or_skip() {
        return;
    }
    // A duplicate comment on a transient API error would be the wrong failure.
    let r = run_step(
        &ours_body(),
        &[serde_json::Value::Array(others())],
        &[("FAKE_GH_FAIL", "1")],
    );
    assert_ne!(r.code, 0, "{}", r.stdout);
    assert_eq!(r.calls, [GET.to_string()]);
}

#[test]
fn a_body_without_the_marker_is_refused_before_any_call() {
    if !tools_or_skip() {
        return;
    }
    // It could never be found again: every push would add a comment.
    let r = run_step("## Benchmark report\n", &[serde_json::Value::Array(others())], &[]);
    assert_ne!(r.code, 0);
    assert!(r.calls.is_empty(), "{:?}", r.calls);
    assert!(r.stdout.contains("does not carry the marker"), "{}", r.stdout);
}

#[test]
fn the_step_looks_for_the_marker_compare_writes() {
    let (script, env) = step();
    assert!(
        script.contains(&format!("marker='{MARKER}'")),
        "the step's marker is not pr_comment::MARKER"
    );
    assert!(
        !script.contains("--edit-last"),
        "--edit-last edits whatever the token's user commented last"
    );
    assert!(env.iter().any(|(k, v)| k == "COMMENT_AUTHOR" && v == BOT), "{env:?}");
}
