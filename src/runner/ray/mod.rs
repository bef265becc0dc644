//! The `ray` backend: the same workloads on an existing Ray cluster,
//! through the Ray Jobs REST API (reqwest on a small tokio runtime).
//!
//! A run uploads `driver.py` (kept in this folder, embedded in the binary)
//! and a `spec.json` with the items, emulated cluster and settings as the
//! job's working-dir package (`PUT /api/packages/gcs/_ray_pkg_<hash>.zip`,
//! what `ray job submit --working-dir` does), submits `python3 driver.py
//! spec.json` (`python` where there is no `python3`; `POST /api/jobs/`),
//! polls `GET /api/jobs/{id}` and reads the real cluster and the results
//! from `GET /api/jobs/{id}/logs`; Ctrl-C stops the job
//! (`POST /api/jobs/{id}/stop`). What the driver emulates of the embedded
//! engine is documented at the top of `driver.py` and in README.

use anyhow::{bail, Context};
use serde_json::{json, Value};
use std::io::Write as _;
use std::time::{Duration, Instant};

/// The driver program shipped with every job.
pub const DRIVER: &str = include_str!("driver.py");

/// The job's entrypoint (run by a shell on the head): `python3`, or
/// `python` where only that exists.
pub const ENTRYPOINT: &str = "if command -v python3 >/dev/null 2>&1; then exec python3 driver.py spec.json; else exec python driver.py spec.json; fi";

/// How to start a local head, for error messages.
pub const START_HINT: &str = "start a local head with `scripts/ray-local.sh up` (creates a virtualenv with ray[default] and runs `ray start --head --node-ip-address 127.0.0.1 --dashboard-host 127.0.0.1 --num-cpus 2`), then pass --ray-address http://127.0.0.1:8265 or set RAY_ADDRESS";

pub struct RayClient {
    base: String,
    http: reqwest::Client,
    rt: tokio::runtime::Runtime,
    pub ray_version: String,
}

/// A finished job: its final status and its logs.
pub struct JobOutput {
    pub id: String,
    pub status: String,
    pub logs: String,
}

impl RayClient {
    /// Connect to the dashboard at `address` (`http://host:8265`; a bare
    /// `host:port` gets `http://`) and read its version.
    pub fn connect(address: &str) -> anyhow::Result<RayClient> {
        let mut base = address.trim().trim_end_matches('/').to_string();
        if base.starts_with("ray://") {
            bail!("--ray-address {address}: that is the Ray Client port; give the dashboard's Jobs API address, e.g. http://127.0.0.1:8265");
        }
        if base.starts_with("https://") {
            bail!("--ray-address {address}: https is not supported by this build; reach the dashboard over http (e.g. `kubectl port-forward svc/<head> 8265`)");
        }
        if !base.starts_with("http://") {
            base = format!("http://{base}");
        }
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(120))
            .build()?;
        let mut client = RayClient {
            base,
            http,
            rt,
            ray_version: String::new(),
        };
        let version = client
            .get_json("/api/version")
            .with_context(|| format!("cannot reach the Ray Jobs API at {}; {START_HINT}", client.base))?;
        client.ray_version = version["ray_version"].as_str().unwrap_or("unknown").to_string();
        if version["version"].as_str().is_none() {
            bail!(
                "{}/api/version did not answer like a Ray dashboard ({version}); check --ray-address",
                client.base
            );
        }
        check_version(&client.ray_version).with_context(|| format!("the Ray cluster at {}", client.base))?;
        Ok(client)
    }

    pub fn address(&self) -> &str {
        &self.base
    }

    fn get_json(&self, path: &str) -> anyhow::Result<Value> {
        let url = format!("{}{path}", self.base);
        self.rt.block_on(async {
            let resp = self.http.get(&url).send().await.with_context(|| format!("GET {url}"))?;
            let status = resp.status();
            let text = resp.text().await?;
            if !status.is_success() {
                bail!(
                    "GET {url}: HTTP {status}: {}",
                    text.chars().take(400).collect::<String>()
                );
            }
            serde_json::from_str(&text)
                .with_context(|| format!("GET {url}: not JSON: {}", text.chars().take(200).collect::<String>()))
        })
    }

    /// Upload `files` as a working-dir package; returns its `gcs://` URI.
    pub fn upload_package(&self, files: &[(&str, &[u8])]) -> anyhow::Result<String> {
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .last_modified_time(zip::DateTime::default());
        for (name, bytes) in files {
            zip.start_file(*name, options)?;
            zip.write_all(bytes)?;
        }
        let bytes = zip.finish()?.into_inner();
        let hash = crate::model::config_hash::sha256_hex(&String::from_utf8_lossy(&bytes));
        let name = format!("_ray_pkg_{}.zip", &hash[..16]);
        let url = format!("{}/api/packages/gcs/{name}", self.base);
        self.rt.block_on(async {
            let resp = self
                .http
                .put(&url)
                .body(bytes)
                .send()
                .await
                .with_context(|| format!("PUT {url}"))?;
            if !resp.status().is_success() {
                let status = resp.status();
                bail!(
                    "uploading the driver package to {url} failed: HTTP {status}: {}",
                    resp.text()
                        .await
                        .unwrap_or_default()
                        .chars()
                        .take(400)
                        .collect::<String>()
                );
            }
            Ok(())
        })?;
        Ok(format!("gcs://{name}"))
    }

    /// Submit `entrypoint` with `working_dir`; returns the submission id.
    pub fn submit(&self, entrypoint: &str, working_dir: &str, submission_id: &str) -> anyhow::Result<String> {
        let url = format!("{}/api/jobs/", self.base);
        let body = json!({
            "entrypoint": entrypoint,
            "submission_id": submission_id,
            "runtime_env": {"working_dir": working_dir},
            "metadata": {"submitted_by": format!("sagereport {}", env!("CARGO_PKG_VERSION"))},
        });
        let answer: Value = self.rt.block_on(async {
            let resp = self
                .http
                .post(&url)
                .json(&body)
                .send()
                .await
                .with_context(|| format!("POST {url}"))?;
            let status = resp.status();
            let text = resp.text().await?;
            if !status.is_success() {
                bail!(
                    "submitting the job to {url} failed: HTTP {status}: {}",
                    text.chars().take(400).collect::<String>()
                );
            }
            Ok(serde_json::from_str(&text)?)
        })?;
        Ok(answer["submission_id"]
            .as_str()
            .or(answer["job_id"].as_str())
            .unwrap_or(submission_id)
            .to_string())
    }

    pub fn logs(&self, id: &str) -> anyhow::Result<String> {
        Ok(self.get_json(&format!("/api/jobs/{id}/logs"))?["logs"]
            .as_str()
            .unwrap_or("")
            .to_string())
    }

    pub fn stop(&self, id: &str) {
        let url = format!("{}/api/jobs/{id}/stop", self.base);
        let _ = self.rt.block_on(async { self.http.post(&url).send().await });
    }

    /// Poll until the job ends (or `timeout`, or Ctrl-C: then stop it).
    pub fn wait(&self, id: &str, timeout: Duration, progress: &dyn Fn(&str)) -> anyhow::Result<JobOutput> {
        let started = Instant::now();
        let mut stopped = false;
        loop {
            let info = self.get_json(&format!("/api/jobs/{id}"))?;
            let status = info["status"].as_str().unwrap_or("UNKNOWN").to_string();
            progress(&format!("ray job {id}: {status}"));
            if matches!(status.as_str(), "SUCCEEDED" | "FAILED" | "STOPPED") {
                let logs = self.logs(id).unwrap_or_default();
                if status == "FAILED" {
                    let tail: Vec<&str> = logs
                        .lines()
                        .rev()
                        .take(25)
                        .collect::<Vec<_>>()
                        .into_iter()
                        .rev()
                        .collect();
                    let message = info["message"]
                        .as_str()
                        .unwrap_or("")
                        .lines()
                        .next()
                        .unwrap_or("")
                        .to_string();
                    bail!(
                        "Ray job {id} failed: {message}\n--- last lines of its log ---\n{}",
                        tail.join("\n")
                    );
                }
                return Ok(JobOutput {
                    id: id.to_string(),
                    status,
                    logs,
                });
            }
            if !stopped && (super::engine::stop_requested() || started.elapsed() > timeout) {
                self.stop(id);
                stopped = true;
                if started.elapsed() > timeout {
                    bail!(
                        "Ray job {id} did not finish within {} s; it was stopped (raise --ray-timeout)",
                        timeout.as_secs()
                    );
                }
            }
            std::thread::sleep(Duration::from_millis(300));
        }
    }
}

/// The oldest Ray whose Jobs API (package upload, submission ids, logs,
/// stop) and task runtime the driver is known to work with.
pub const MIN_RAY: (u32, u32) = (2, 9);

/// Refuse a cluster older than [`MIN_RAY`] (or one that does not say).
pub fn check_version(ray_version: &str) -> anyhow::Result<()> {
    let mut parts = ray_version.split('.').map(|p| p.trim().parse::<u32>());
    match (parts.next(), parts.next()) {
        (Some(Ok(major)), Some(Ok(minor))) if (major, minor) >= MIN_RAY => Ok(()),
        (Some(Ok(_)), Some(Ok(_))) => bail!(
            "runs Ray {ray_version}, older than {}.{}, the oldest this sagereport supports; upgrade the cluster (scripts/ray-local.sh pins 2.60.0)",
            MIN_RAY.0,
            MIN_RAY.1
        ),
        _ => bail!("reports Ray version {ray_version:?}, which is not a version number; is it a Ray dashboard?"),
    }
}

/// The `SAGEREPORT_RESULT` documents of a job's logs, in order.
pub fn results_of(logs: &str) -> Vec<Value> {
    logs.lines()
        .filter_map(|l| l.strip_prefix("SAGEREPORT_RESULT "))
        .filter_map(|j| serde_json::from_str(j).ok())
        .collect()
}

/// The real cluster the driver saw (its `SAGEREPORT_RAY` line): Ray and
/// Python versions, numpy, alive nodes, CPUs, resources, the driver's host
/// and the per-item operator costs it measured.
pub fn cluster_of(logs: &str) -> Option<Value> {
    logs.lines()
        .filter_map(|l| l.strip_prefix("SAGEREPORT_RAY "))
        .find_map(|j| serde_json::from_str(j).ok())
}

/// The facts of one run a Ray record adds to its metadata: the task window
/// and the most tasks ever in flight (driver-side and as seen by the
/// workers), the CPU share per task, open-loop arrival lag, the outage and
/// reconfiguration as they happened, tasks per Ray node and re-placements.
pub fn run_facts(res: &Value) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    for (from, to) in [
        ("task_window", "task_window"),
        ("task_window_after", "task_window_after"),
        ("max_tasks_in_flight", "max_tasks_in_flight"),
        ("observed_max_concurrency", "observed_max_concurrency"),
        ("cpu_share", "ray_cpu_share_per_task"),
        ("arrival_lag_ms", "arrival_lag_ms"),
        ("outage", "outage_observed"),
        ("reconfigured_at_s", "reconfigured_at_s"),
        ("ray_node_tasks", "ray_node_tasks"),
        ("replaced", "tasks_replaced"),
    ] {
        if !res[from].is_null() {
            m.insert(to.into(), res[from].clone());
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_lines_are_read_from_logs_and_noise_is_ignored() {
        let logs = "INFO starting\nSAGEREPORT_RESULT {\"key\": \"0-r1\"}\nwarning\nSAGEREPORT_RESULT {broken\nSAGEREPORT_RESULT {\"key\": \"1-r1\"}\n";
        let r = results_of(logs);
        assert_eq!(r.len(), 2);
        assert_eq!(r[1]["key"], "1-r1");
    }

    #[test]
    fn the_cluster_line_and_run_facts_are_read() {
        let logs = "x\nSAGEREPORT_RAY {\"nodes\": 1, \"cpus\": 2.0}\n";
        assert_eq!(cluster_of(logs).unwrap()["cpus"], 2.0);
        assert!(cluster_of("nothing").is_none());
        let facts = run_facts(&json!({"task_window": 4, "max_tasks_in_flight": 4, "outage": null, "replaced": 0}));
        assert_eq!(facts["task_window"], 4);
        assert!(!facts.contains_key("outage_observed"));
        assert_eq!(facts["tasks_replaced"], 0);
    }

    #[cfg(unix)]
    #[test]
    fn the_entrypoint_prefers_python3_and_falls_back_to_python() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("driver.py"), "").unwrap();
        for (have, expect) in [(&["python3", "python"][..], "python3"), (&["python"][..], "python")] {
            let bin = dir.path().join(format!("bin-{}", have.len()));
            std::fs::create_dir_all(&bin).unwrap();
            for exe in have {
                let path = bin.join(exe);
                std::fs::write(&path, format!("#!/bin/sh\necho {exe}\n")).unwrap();
                std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
            }
            let out = std::process::Command::new("/bin/sh")
                .arg("-c")
                .arg(ENTRYPOINT)
                .current_dir(dir.path())
                .env("PATH", &bin)
                .output()
                .unwrap();
            assert_eq!(
                String::from_utf8_lossy(&out.stdout).trim(),
                expect,
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }

    #[test]
    fn old_or_unknown_ray_versions_are_refused() {
        assert!(check_version("2.60.0").is_ok());
        assert!(check_version("3.0.0").is_ok());
        let old = format!("{:#}", check_version("2.5.1").unwrap_err());
        assert!(old.contains("older than 2.9"), "{old}");
        assert!(check_version("unknown").is_err());
    }

    #[test]
    fn unreachable_address_names_the_fix() {
        let err = RayClient::connect("http://127.0.0.1:9")
            .err()
            .expect("nothing listens on port 9");
        let text = format!("{err:#}");
        assert!(text.contains("scripts/ray-local.sh up"), "{text}");
        assert!(RayClient::connect("ray://127.0.0.1:10001").is_err());
    }
}
