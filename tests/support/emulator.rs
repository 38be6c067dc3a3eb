//! The Jira emulator of a test: in this process (`jira_emulator::Emulator::start`), or as the
//! `jira-emulator` binary in a process of its own (so that it outlives, and is not stalled by, an
//! operator process the test kills). Either way the test reaches it over real HTTP, the REST API
//! through [`Emulator::client`] and the admin API through the methods of `emulator_admin.rs`.

use std::process::Stdio;
use std::time::Duration;

use jira_active_sync::jira::{ClientConfig, Credentials, Flavor, JiraClient};
use jira_emulator::{EmulatorConfig, EmulatorHandle};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use super::image::Image;
use super::{Mode, TestNamespace};

/// The seeded admin user, whom tests and the operator act as.
pub const EMAIL: &str = "admin@example.com";
/// The admin's API token in the default seed (Cloud).
pub const SEED_TOKEN: &str = "emulator-token";
/// The admin's personal access token in the default seed (Data Center).
pub const SEED_PAT: &str = "emulator-pat";

/// A running emulator, stopped when dropped.
pub struct Emulator {
    /// Its base URL.
    pub url: String,
    /// The PEM of the CA of its certificate, when it serves HTTPS.
    pub ca_pem: Option<String>,
    flavor: Flavor,
    /// The admin API's HTTP client.
    pub(super) http: reqwest::Client,
    running: Running,
}

enum Running {
    InProcess(EmulatorHandle),
    Process(Child),
    /// A Pod of the single-node cluster, in a test namespace.
    Pod,
}

impl Emulator {
    /// Starts an emulator of `flavor` on a free loopback port, with Jira Cloud's rate limits
    /// when `rate_limits`, and the default seed.
    pub async fn start(mode: Mode, flavor: Flavor, rate_limits: bool) -> Emulator {
        Emulator::start_with(mode, flavor, rate_limits, false).await
    }

    /// Like [`Emulator::start`], over HTTPS with a CA of its own when `tls` (its PEM in
    /// [`Emulator::ca_pem`]; the admin API trusts it).
    pub async fn start_with(mode: Mode, flavor: Flavor, rate_limits: bool, tls: bool) -> Emulator {
        let options = Options {
            rate_limits,
            tls,
            seed: "default",
            listen: LOOPBACK.to_owned(),
        };
        Emulator::start_options(mode, flavor, options).await
    }

    /// A process over HTTPS on `ip` (a free port), its certificate naming `ip`: a Jira site that
    /// Pods of the single-node cluster reach on its node address, behind a private CA.
    pub async fn start_for_pods(ip: &str, flavor: Flavor) -> Emulator {
        let options = Options {
            rate_limits: false,
            tls: true,
            seed: "default",
            listen: format!("{ip}:0"),
        };
        Emulator::start_options(Mode::Process, flavor, options).await
    }

    /// Jira Cloud as a Pod of the single-node cluster in `ns`, from the operator's `image`, behind
    /// the Service `jira` over HTTPS with a CA of its own: what the operator's Pods and the
    /// emulator's webhook deliveries reach through Services.
    pub async fn in_pod(ns: &TestNamespace, image: &Image) -> Emulator {
        let (url, ca_pem) = super::emulator_pod::start(ns, image).await;
        Emulator {
            url,
            http: admin_http(Some(&ca_pem)),
            ca_pem: Some(ca_pem),
            flavor: Flavor::Cloud,
            running: Running::Pod,
        }
    }

    /// Like [`Emulator::start`], on the built-in seed `seed` (`jira-software`, `review`,
    /// `service-management`, `dc-classic`, `default`) or a seed file.
    pub async fn start_seeded(mode: Mode, flavor: Flavor, seed: &'static str) -> Emulator {
        let options = Options {
            rate_limits: false,
            tls: false,
            seed,
            listen: LOOPBACK.to_owned(),
        };
        Emulator::start_options(mode, flavor, options).await
    }

    async fn start_options(mode: Mode, flavor: Flavor, options: Options) -> Emulator {
        let ca_path = options.tls.then(|| {
            let name = format!("jas-emulator-ca-{}-{}.pem", std::process::id(), free_port());
            std::env::temp_dir().join(name)
        });
        let (running, url) = match mode {
            Mode::InProcess => {
                let handle = in_process(flavor, &options).await;
                let url = handle.base_url().to_owned();
                (Running::InProcess(handle), url)
            }
            Mode::Process => {
                let mut child = process(flavor, &options, ca_path.as_deref());
                let url = printed_url(&mut child).await;
                (Running::Process(child), url)
            }
        };
        let ca_pem = match (&running, &ca_path) {
            (Running::InProcess(handle), _) => handle.ca_pem().map(str::to_owned),
            (Running::Process(_), Some(path)) => {
                let pem = std::fs::read_to_string(path).expect("the emulator wrote its CA");
                let _ = std::fs::remove_file(path);
                Some(pem)
            }
            (Running::Process(_) | Running::Pod, _) => None,
        };
        Emulator {
            url,
            http: admin_http(ca_pem.as_deref()),
            ca_pem,
            flavor,
            running,
        }
    }

    /// The Jira it emulates.
    pub fn flavor(&self) -> Flavor {
        self.flavor
    }

    /// The admin's secret in the default seed: an API token on Cloud, a PAT on Data Center.
    pub fn seed_secret(&self) -> &'static str {
        match self.flavor {
            Flavor::Cloud => SEED_TOKEN,
            Flavor::DataCenter => SEED_PAT,
        }
    }

    /// Client configuration (the client's own defaults) acting as the admin with `secret`,
    /// trusting the emulator's CA when it serves HTTPS.
    pub fn client_config(&self, secret: &str) -> ClientConfig {
        let credentials = match self.flavor {
            Flavor::Cloud => Credentials::Basic {
                email: EMAIL.into(),
                api_token: secret.into(),
            },
            Flavor::DataCenter => Credentials::Bearer {
                token: secret.into(),
            },
        };
        let mut config = ClientConfig::new(&self.url, self.flavor, credentials);
        config.trusted_ca_pem = self.ca_pem.as_ref().map(|pem| pem.clone().into_bytes());
        config
    }

    /// A client acting as the admin with `secret`.
    pub fn client(&self, secret: &str) -> JiraClient {
        JiraClient::new(self.client_config(secret)).expect("client")
    }

    /// Whether it still serves: a process may have exited; one in this process serves until
    /// dropped.
    pub fn running(&mut self) -> bool {
        match &mut self.running {
            Running::InProcess(_) | Running::Pod => true,
            Running::Process(child) => matches!(child.try_wait(), Ok(None)),
        }
    }
}

/// An HTTP client for the admin API, trusting the emulator's CA when it has one.
fn admin_http(ca_pem: Option<&str>) -> reqwest::Client {
    let mut builder = reqwest::Client::builder();
    if let Some(pem) = ca_pem {
        let ca = reqwest::Certificate::from_pem(pem.as_bytes()).expect("the CA is PEM");
        builder = builder.add_root_certificate(ca);
    }
    builder.build().expect("HTTP client")
}

/// A free loopback port number, to name a file after.
fn free_port() -> u16 {
    super::operator::free_port().port()
}

/// Where an emulator on this machine listens unless Pods must reach it.
const LOOPBACK: &str = "127.0.0.1:0";

/// How an emulator starts.
#[derive(Debug, Clone)]
struct Options {
    rate_limits: bool,
    tls: bool,
    seed: &'static str,
    /// The process's listen address (an emulator in this process is on loopback).
    listen: String,
}

async fn in_process(flavor: Flavor, options: &Options) -> EmulatorHandle {
    let Options {
        rate_limits,
        tls,
        seed,
        ..
    } = *options;
    let config = EmulatorConfig {
        seed: jira_emulator::Seed::named_or_file(seed).expect("the seed loads"),
        flavor: match flavor {
            Flavor::Cloud => jira_emulator::Flavor::Cloud,
            Flavor::DataCenter => jira_emulator::Flavor::Datacenter,
        },
        rate_limits,
        tls,
        ..EmulatorConfig::default()
    };
    jira_emulator::Emulator::start("127.0.0.1:0".parse().expect("address"), config)
        .await
        .expect("emulator starts")
}

/// Starts `jira-emulator` on the options' listen address; it prints its URL once serving. With a
/// CA path it serves HTTPS and writes its CA there.
fn process(flavor: Flavor, options: &Options, ca_path: Option<&std::path::Path>) -> Child {
    let mut command = Command::new(emulator_binary());
    command.args([
        "--listen",
        &options.listen,
        "--seed",
        options.seed,
        "--flavor",
    ]);
    command.arg(match flavor {
        Flavor::Cloud => "cloud",
        Flavor::DataCenter => "datacenter",
    });
    if options.rate_limits {
        command.arg("--rate-limits");
    }
    if let Some(path) = ca_path {
        command.arg("--tls").arg("--tls-ca-out").arg(path);
    }
    command
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("jira-emulator starts")
}

async fn printed_url(child: &mut Child) -> String {
    let stdout = child.stdout.take().expect("piped stdout");
    let mut lines = BufReader::new(stdout).lines();
    let url = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("jira-emulator prints its URL within 30s")
        .expect("reading jira-emulator's stdout")
        .expect("jira-emulator printed its URL");
    url.trim().to_owned()
}

/// The `jira-emulator` binary of this build: another workspace package, so Cargo gives no
/// `CARGO_BIN_EXE_` for it; `cargo test` at the workspace root builds it next to this package's
/// binaries.
fn emulator_binary() -> std::path::PathBuf {
    let operator = std::path::Path::new(env!("CARGO_BIN_EXE_jira-active-sync"));
    let emulator =
        operator.with_file_name(format!("jira-emulator{}", std::env::consts::EXE_SUFFIX));
    assert!(
        emulator.exists(),
        "{} is missing: run the tests from the workspace root (`cargo test --workspace`), or \
         build it with `cargo build -p jira-emulator`",
        emulator.display()
    );
    emulator
}
