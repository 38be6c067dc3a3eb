//! The operator under test: the real `jira-active-sync` binary in a process of its own, so that a
//! SIGKILL is a real crash and a SIGTERM a real shutdown; or `controller::run_with` in this
//! process, for a test that needs neither. And which replica holds the leader Lease.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use jira_active_sync::controller::{self, RunOptions, Settings};
use k8s_openapi::api::coordination::v1::Lease;
use kube::{Api, Client};
use tokio::process::{Child, Command};
use tokio::task::JoinHandle;

use super::Mode;
use super::cluster::cluster;

/// A running operator, stopped when dropped. A process appends its output to a log file and
/// `kill` is SIGKILL; an operator in this process logs nowhere and `kill` aborts its task.
pub struct Operator {
    running: Running,
    /// Its HTTP listener (metrics, health, webhook).
    pub listen: std::net::SocketAddr,
    /// Where a process's stdout and stderr go.
    pub log: PathBuf,
}

enum Running {
    InProcess(JoinHandle<()>),
    Process(Child),
}

/// How an operator is started.
#[derive(Clone)]
pub struct OperatorOptions {
    /// The namespace it watches.
    pub namespace: String,
    /// `--search-settle`.
    pub search_settle: &'static str,
    /// `RUST_LOG` (of a process).
    pub rust_log: &'static str,
    /// Kubeconfig to use instead of the cluster admin's (by a process).
    pub kubeconfig: Option<PathBuf>,
    /// More namespaces it watches besides `namespace`.
    pub also_watch: Vec<String>,
}

impl Operator {
    /// Starts the operator against the test cluster, a process logging to `log` (appended).
    pub async fn start(mode: Mode, options: &OperatorOptions, log: PathBuf) -> Operator {
        match mode {
            Mode::InProcess => Operator::in_process(options, log).await,
            Mode::Process => Operator::process(options, log).await,
        }
    }

    /// Runs `controller::run_with` on a task of this test's runtime, as the cluster admin.
    async fn in_process(options: &OperatorOptions, log: PathBuf) -> Operator {
        assert!(
            options.kubeconfig.is_none(),
            "an operator in the test process acts as the cluster admin"
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let listen = listener.local_addr().expect("address");
        let client = cluster().await.client(&options.namespace).await;
        let installation = cluster().await.installation().await;
        let run = RunOptions {
            listen,
            namespaces: [&options.namespace]
                .into_iter()
                .chain(&options.also_watch)
                .cloned()
                .collect(),
            settings: Settings {
                search_settle: options
                    .search_settle
                    .parse()
                    .expect("a search settle window"),
                manager: "jira-active-sync".to_owned(),
                cluster_reports: false,
                installation,
            },
            leader_election: None,
        };
        let task = tokio::spawn(async move {
            if let Err(error) = controller::run_with(client, listener, run).await {
                panic!("the operator in the test process failed: {error:#}");
            }
        });
        Operator {
            running: Running::InProcess(task),
            listen,
            log,
        }
    }

    /// Starts `jira-active-sync run`, logging to `log` (appended).
    async fn process(options: &OperatorOptions, log: PathBuf) -> Operator {
        let mut args: Vec<String> = [
            "run",
            "--listen",
            &free_port().to_string(),
            "--namespace",
            &options.namespace,
            "--search-settle",
            options.search_settle,
        ]
        .map(str::to_owned)
        .into();
        for namespace in &options.also_watch {
            args.extend(["--namespace".to_owned(), namespace.clone()]);
        }
        let kubeconfig = match &options.kubeconfig {
            Some(path) => Some(path.clone()),
            None => cluster().await.kubeconfig().map(PathBuf::from),
        };
        Operator::spawn(
            &args,
            &[("RUST_LOG", options.rust_log)],
            kubeconfig.as_deref(),
            log,
        )
    }

    /// Starts `jira-active-sync ARGS` (which name its `--listen` address) with `env`, against the
    /// cluster of `kubeconfig` (or the inherited `KUBECONFIG`), logging to `log` (appended).
    pub fn spawn(
        args: &[String],
        env: &[(&str, &str)],
        kubeconfig: Option<&Path>,
        log: PathBuf,
    ) -> Operator {
        let listen = args
            .iter()
            .skip_while(|arg| *arg != "--listen")
            .nth(1)
            .and_then(|address| address.parse().ok())
            .expect("the arguments name a --listen address");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .expect("operator log file");
        let mut command = Command::new(env!("CARGO_BIN_EXE_jira-active-sync"));
        command
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("log file"))
            .stderr(file)
            .kill_on_drop(true);
        if let Some(path) = kubeconfig {
            command.env("KUBECONFIG", path);
        }
        let child = command.spawn().expect("jira-active-sync starts");
        Operator {
            running: Running::Process(child),
            listen,
            log,
        }
    }

    /// A process's SIGKILL: no shutdown, no flushing, as a node failure or OOM kill. An operator
    /// in this process has its task aborted.
    pub async fn kill(mut self) {
        match &mut self.running {
            Running::InProcess(task) => task.abort(),
            Running::Process(child) => child.kill().await.expect("SIGKILL the operator"),
        }
    }

    /// The process, which only an operator started as one has.
    fn child(&mut self) -> &mut Child {
        match &mut self.running {
            Running::Process(child) => child,
            Running::InProcess(_) => panic!("the operator runs in the test process"),
        }
    }

    /// SIGTERM to the process, then waits (at most 30 s) for a successful exit.
    pub async fn terminate(&mut self) {
        let pid = self.child().id().expect("the operator runs");
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .expect("send SIGTERM");
        assert!(status.success(), "kill -TERM {pid}");
        let exit = tokio::time::timeout(Duration::from_secs(30), self.child().wait())
            .await
            .expect("the operator stops within 30 s of SIGTERM")
            .expect("wait");
        assert!(
            exit.success(),
            "the operator exited with {exit}:\n{}",
            self.log_text()
        );
    }

    /// Whether it still runs (a crash loop would show here).
    pub fn running(&mut self) -> bool {
        match &mut self.running {
            Running::InProcess(task) => !task.is_finished(),
            Running::Process(child) => matches!(child.try_wait(), Ok(None)),
        }
    }

    /// Fails the test if the process has exited, saying `when` and where its log is.
    pub fn assert_running(&mut self, when: &str) {
        assert!(
            self.running(),
            "the operator exited {when}; see {}",
            self.log.display()
        );
    }

    /// Reads one path of its HTTP listener.
    pub async fn get(&self, path: &str) -> Option<String> {
        let response = reqwest::get(format!("http://{}{path}", self.listen))
            .await
            .ok()?;
        response.text().await.ok()
    }

    /// Everything the process has logged so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Removes the log (after a passing test; a failing one keeps it for inspection).
    pub fn remove_log(&self) {
        let _ = std::fs::remove_file(&self.log);
    }
}

impl Drop for Operator {
    /// Stops an operator in this process with the test; a process is killed on drop already.
    fn drop(&mut self) {
        if let Running::InProcess(task) = &self.running {
            task.abort();
        }
    }
}

/// The holder of Lease `name` in `namespace`.
pub async fn lease_holder(client: &Client, namespace: &str, name: &str) -> Option<String> {
    Api::<Lease>::namespaced(client.clone(), namespace)
        .get_opt(name)
        .await
        .expect("get the Lease")
        .and_then(|lease| lease.spec)
        .and_then(|spec| spec.holder_identity)
}

/// A free loopback port (bound, then released for the process to take).
pub fn free_port() -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address")
}
