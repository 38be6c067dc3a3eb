//! Throughput of the jira-emulator: concurrent keep-alive clients issue simple requests (GET issue,
//! GET myself) against an in-process emulator for a few seconds; prints requests per second.
//!
//! `cargo bench --bench emulator_throughput` (env: `BENCH_SECONDS`, default 5; `BENCH_CLIENTS`,
//! default 32). Clients and server share the machine's cores, so the figure is a floor. Run by
//! `cargo test --all-targets` (no `--bench` argument) it only drives each endpoint for 1 s, as a
//! smoke run of the same code.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use jira_emulator::{Emulator, EmulatorConfig};

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn drive(base_url: String, path: &'static str, clients: u64, seconds: u64) -> (u64, u64) {
    let done = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .build()
            .expect("HTTP client");
        let url = format!("{base_url}{path}");
        let done = done.clone();
        let failed = failed.clone();
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                let ok = match http
                    .get(&url)
                    .basic_auth("admin@example.com", Some("emulator-token"))
                    .send()
                    .await
                {
                    Ok(response) => {
                        response.status().is_success() && response.bytes().await.is_ok()
                    }
                    Err(_) => false,
                };
                if ok {
                    done.fetch_add(1, Ordering::Relaxed);
                } else {
                    failed.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for task in tasks {
        task.await.expect("client task");
    }
    (done.load(Ordering::Relaxed), failed.load(Ordering::Relaxed))
}

fn main() {
    let benchmarking = std::env::args().any(|a| a == "--bench");
    let seconds = env_number("BENCH_SECONDS", if benchmarking { 5 } else { 1 });
    let clients = env_number("BENCH_CLIENTS", 32);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async {
        let listen: SocketAddr = "127.0.0.1:0".parse().expect("address");
        let emulator = Emulator::start(listen, EmulatorConfig::default())
            .await
            .expect("emulator starts");
        println!(
            "jira-emulator throughput: {clients} keep-alive clients, {seconds} s per endpoint, {} cores",
            std::thread::available_parallelism().map_or(0, usize::from)
        );
        for (name, path) in [
            ("GET /rest/api/3/issue/SEC-1", "/rest/api/3/issue/SEC-1"),
            ("GET /rest/api/3/myself", "/rest/api/3/myself"),
        ] {
            let started = Instant::now();
            let (done, failed) = drive(emulator.base_url().to_owned(), path, clients, seconds).await;
            let rate = done as f64 / started.elapsed().as_secs_f64();
            println!("{name}: {rate:.0} requests/s ({done} ok, {failed} failed)");
        }
        emulator.shutdown().await;
    });
}
