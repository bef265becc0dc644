//! The `ray` backend: the same workloads on an existing Ray cluster,
//! through the Ray Jobs REST API (reqwest on a small tokio runtime).
//!
//! A run uploads `driver.py` (kept in this folder, embedded in the binary)
//! and a `spec.json` with the items, batches and settings as the job's
//! working-dir package (`PUT /api/packages/gcs/_ray_pkg_<hash>.zip`, what
//! `ray job submit --working-dir` does), submits `python driver.py
//! spec.json` (`POST /api/jobs/`), polls `GET /api/jobs/{id}` and reads the
//! results from `GET /api/jobs/{id}/logs`; Ctrl-C stops the job
//! (`POST /api/jobs/{id}/stop`).

use anyhow::{bail, Context};
use serde_json::{json, Value};
use std::io::Write as _;
use std::time::{Duration, Instant};

/// The driver program shipped with every job.
pub const DRIVER: &str = include_str!("driver.py");

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
        let http = reqwest::Client::builder().connect_timeout(Duration::from_secs(5)).timeout(Duration::from_secs(120)).build()?;
        let mut client = RayClient { base, http, rt, ray_version: String::new() };
        let version = client
            .get_json("/api/version")
            .with_context(|| format!("cannot reach the Ray Jobs API at {}; {START_HINT}", client.base))?;
        client.ray_version = version["ray_version"].as_str().unwrap_or("unknown").to_string();
        if version["version"].as_str().is_none() {
            bail!("{}/api/version did not answer like a Ray dashboard ({version}); check --ray-address", client.base);
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
                bail!("GET {url}: HTTP {status}: {}", text.chars().take(400).collect::<String>());
            }
            serde_json::from_str(&text).with_context(|| format!("GET {url}: not JSON: {}", text.chars().take(200).collect::<String>()))
        })
    }

    /// Upload `files` as a working-dir package; returns its `gcs://` URI.
    pub fn upload_package(&self, files: &[(&str, &[u8])]) -> anyhow::Result<String> {
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored).last_modified_time(zip::DateTime::default());
        for (name, bytes) in files {
            zip.start_file(*name, options)?;
            zip.write_all(bytes)?;
        }
        let bytes = zip.finish()?.into_inner();
        let hash = crate::model::config_hash::sha256_hex(&String::from_utf8_lossy(&bytes));
        let name = format!("_ray_pkg_{}.zip", &hash[..16]);
        let url = format!("{}/api/packages/gcs/{name}", self.base);
        self.rt.block_on(async {
            let resp = self.http.put(&url).body(bytes).send().await.with_context(|| format!("PUT {url}"))?;
            if !resp.status().is_success() {
                let status = resp.status();
                bail!("uploading the driver package to {url} failed: HTTP {status}: {}", resp.text().await.unwrap_or_default().chars().take(400).collect::<String>());
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
            let resp = self.http.post(&url).json(&body).send().await.with_context(|| format!("POST {url}"))?;
            let status = resp.status();
            let text = resp.text().await?;
            if !status.is_success() {
                bail!("submitting the job to {url} failed: HTTP {status}: {}", text.chars().take(400).collect::<String>());
            }
            Ok(serde_json::from_str(&text)?)
        })?;
        Ok(answer["submission_id"].as_str().or(answer["job_id"].as_str()).unwrap_or(submission_id).to_string())
    }

    pub fn logs(&self, id: &str) -> anyhow::Result<String> {
        Ok(self.get_json(&format!("/api/jobs/{id}/logs"))?["logs"].as_str().unwrap_or("").to_string())
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
                    let tail: Vec<&str> = logs.lines().rev().take(25).collect::<Vec<_>>().into_iter().rev().collect();
                    let message = info["message"].as_str().unwrap_or("").lines().next().unwrap_or("").to_string();
                    bail!("Ray job {id} failed: {message}\n--- last lines of its log ---\n{}", tail.join("\n"));
                }
                return Ok(JobOutput { id: id.to_string(), status, logs });
            }
            if !stopped && (super::engine::stop_requested() || started.elapsed() > timeout) {
                self.stop(id);
                stopped = true;
                if started.elapsed() > timeout {
                    bail!("Ray job {id} did not finish within {} s; it was stopped (raise --ray-timeout)", timeout.as_secs());
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
    logs.lines().filter_map(|l| l.strip_prefix("SAGEREPORT_RESULT ")).filter_map(|j| serde_json::from_str(j).ok()).collect()
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
    fn old_or_unknown_ray_versions_are_refused() {
        assert!(check_version("2.60.0").is_ok());
        assert!(check_version("3.0.0").is_ok());
        let old = format!("{:#}", check_version("2.5.1").unwrap_err());
        assert!(old.contains("older than 2.9"), "{old}");
        assert!(check_version("unknown").is_err());
    }

    #[test]
    fn unreachable_address_names_the_fix() {
        let err = RayClient::connect("http://127.0.0.1:9").err().expect("nothing listens on port 9");
        let text = format!("{err:#}");
        assert!(text.contains("scripts/ray-local.sh up"), "{text}");
        assert!(RayClient::connect("ray://127.0.0.1:10001").is_err());
    }
}
