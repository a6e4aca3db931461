//! `serve`, `demo`, `config` and `clock advance`: thin wrappers over `aftersale_http`.

use aftersale_http::{app, demo, Config};
use clap::Args;
use serde_json::json;
use std::path::{Path, PathBuf};

/// Where every subcommand that opens the database finds its settings: the defaults, then the
/// TOML file, then `AFTERSALE_…` variables, then these flags (the same layers `serve` reads).
#[derive(Args)]
pub struct Settings {
    /// TOML config file (see aftersale.example.toml).
    #[arg(long)]
    config: Option<PathBuf>,
    /// SQLite database file (overrides database.path).
    #[arg(long)]
    db: Option<PathBuf>,
    /// Database URL, sqlite://FILE or postgres://USER@HOST/DB (overrides database.url).
    #[arg(long)]
    database: Option<String>,
}

impl Settings {
    pub fn load(&self) -> Result<Config, String> {
        let mut config = Config::load(self.config.as_deref(), std::env::vars())?;
        if let Some(db) = &self.db {
            config.database.path = db.clone();
            // A file named on the command line is the database, whatever URL the layers below set.
            config.database.url = String::new();
        }
        if let Some(url) = &self.database {
            config.database.url = url.clone();
        }
        config.validate()?;
        Ok(config)
    }
}

#[derive(Args)]
pub struct ServeArgs {
    #[command(flatten)]
    settings: Settings,
    /// Listen address (overrides server.bind).
    #[arg(long)]
    bind: Option<String>,
}

#[derive(Args)]
pub struct DemoArgs {
    /// Listen address.
    #[arg(long, default_value = "127.0.0.1:8080")]
    bind: String,
    /// Where the demo keeps its database and evidence (emptied at start).
    #[arg(long, default_value = "data/demo")]
    dir: PathBuf,
    /// Print one JSON line with the URL and an API token per role.
    #[arg(long)]
    print_credentials: bool,
}

#[derive(Args)]
pub struct ClockArgs {
    /// `advance`
    action: String,
    /// How far, e.g. 6h, 2d, 1d12h.
    by: String,
    /// Server URL (default: the demo started last by this user, from any folder).
    #[arg(long, env = "AFTERSALE_URL")]
    url: Option<String>,
    /// Admin API token (default: the running demo's).
    #[arg(long, env = "AFTERSALE_TOKEN")]
    token: Option<String>,
    /// A demo's directory, to find its credentials (default: the demo started last).
    #[arg(long)]
    dir: Option<PathBuf>,
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| e.to_string())
}

/// The server's runtime: engine calls wait for their group commit on blocking threads, so the
/// number of those threads bounds the commands in flight (and the memory they hold).
fn server_runtime(config: &Config) -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(config.server.blocking_threads.max(1))
        .build()
        .map_err(|e| e.to_string())
}

pub fn serve(args: ServeArgs) -> Result<(), String> {
    let mut config = args.settings.load()?;
    if let Some(b) = args.bind {
        config.server.bind = b;
    }
    app::init_logging(&config);
    server_runtime(&config)?.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&config.server.bind)
            .await
            .map_err(|e| format!("binding {}: {e}", config.server.bind))?;
        let running = app::start(config, listener, None).await?;
        let stop = app::shutdown_signal();
        println!("aftersale listening on http://{}", running.addr);
        running.wait(stop).await;
        Ok(())
    })
}

pub fn demo(args: DemoArgs) -> Result<(), String> {
    let mut config = Config::default();
    config.server.bind = args.bind.clone();
    config.server.manual_clock = true;
    config.database.path = args.dir.join("aftersale.db");
    config.evidence.dir = args.dir.join("evidence");
    config.log.level = "warn".into();
    app::init_logging(&config);
    server_runtime(&config)?.block_on(async move {
        // Bind first: a demo that cannot serve touches nothing. Then claim the directory (only
        // an earlier demo's, or an empty one, and not while another demo holds it) and empty it.
        let listener = tokio::net::TcpListener::bind(&config.server.bind)
            .await
            .map_err(|e| format!("binding {}: {e}", config.server.bind))?;
        let scratch = aftersale_http::scratch::Scratch::claim(&args.dir, "demo")?;
        scratch.empty()?;
        let state = {
            let config = config.clone();
            tokio::task::spawn_blocking(move || app::build_state(&config, None)).await.map_err(|e| e.to_string())??
        };
        let rt = tokio::runtime::Handle::current();
        let seed_state = state.clone();
        let creds =
            tokio::task::spawn_blocking(move || demo::seed(&seed_state, rt)).await.map_err(|e| e.to_string())??;
        let _ = state.demo_logins.set(creds.logins.clone());
        let running = app::start_with_state(state, listener).await?;
        let stop = app::shutdown_signal();
        let url = format!("http://{}", running.addr);
        let line = json!({ "url": url, "tokens": creds.tokens });
        let file = args.dir.join("credentials.json");
        write_private(&file, &line.to_string())?;
        // Also where `aftersale clock advance` looks from any folder.
        if let Some(latest) = latest_demo_file() {
            if let Some(parent) = latest.parent() {
                let _ = std::fs::create_dir_all(parent);
            }
            write_private(&latest, &line.to_string())?;
        }
        if args.print_credentials {
            println!("{line}");
        } else {
            println!("aftersale demo running at {url} (manual clock; Ctrl-C stops it)");
            println!("workbench: open {url}/ in a browser and log in (staff-douyin: merchant queues; alice: buyer; agent: platform)");
            println!("logins (password: {}):", demo::DEMO_PASSWORD);
            for (login, what) in &creds.logins {
                println!("  {login:<20} {what}");
            }
            println!("API tokens: {}", file.display());
            println!(
                "try:  curl -H 'Authorization: Bearer {}' {url}/api/v1/cases",
                creds.tokens.get("merchant").cloned().unwrap_or_default()
            );
            println!("move time:  aftersale clock advance 6h");
        }
        running.wait(stop).await;
        Ok(())
    })
}

pub fn print_config() -> Result<(), String> {
    println!(
        "# aftersale defaults. Override in a TOML file (--config), with AFTERSALE_SECTION__KEY variables, or flags."
    );
    print!("{}", Config::defaults_toml());
    Ok(())
}

/// Where the demo started last by this user leaves its URL and tokens (readable by the user
/// only): `$XDG_RUNTIME_DIR/aftersale/demo.json`, else `~/.cache/aftersale/demo.json`.
fn latest_demo_file() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("aftersale").join("demo.json"))
}

fn write_private(path: &Path, text: &str) -> Result<(), String> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(path).map_err(|e| format!("writing {}: {e}", path.display()))?;
    f.write_all(text.as_bytes()).map_err(|e| format!("writing {}: {e}", path.display()))
}

fn demo_credentials(dir: Option<&Path>) -> Option<serde_json::Value> {
    let file = match dir {
        Some(d) => d.join("credentials.json"),
        None => latest_demo_file()?,
    };
    let text = std::fs::read_to_string(file).ok()?;
    serde_json::from_str(&text).ok()
}

pub fn clock(args: ClockArgs) -> Result<(), String> {
    if args.action != "advance" {
        return Err(format!("unknown clock action {:?} (try: aftersale clock advance 6h)", args.action));
    }
    let creds = demo_credentials(args.dir.as_deref());
    let url = args
        .url
        .or_else(|| creds.as_ref().and_then(|c| c["url"].as_str().map(str::to_string)))
        .unwrap_or_else(|| "http://127.0.0.1:8080".into());
    let token =
        args.token.or_else(|| creds.as_ref().and_then(|c| c["tokens"]["admin"].as_str().map(str::to_string))).ok_or(
            "no running demo found: start one with `aftersale demo`, or give --url and --token (an admin's API token)",
        )?;
    runtime()?.block_on(async move {
        let client = aftersale_http::client::Client::new(&url).with_token(&token);
        let res = client
            .post("/api/v1/admin/clock/advance", &json!({ "by": args.by }))
            .await
            .map_err(|_| format!("no demo answers at {url}: start one with `aftersale demo`, or give --url"))?;
        let v = res.json();
        if res.status != 200 {
            // The server's refusal in plain words, not its JSON.
            let detail = v["detail"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| String::from_utf8_lossy(&res.body).to_string());
            return Err(match v["code"].as_str() {
                Some("invalid_field") if v["field"] == "by" => {
                    format!("{:?} is not a duration the clock takes: {detail}", args.by)
                }
                Some("demo_only") => format!("the server at {url} runs on the wall clock; only a demo's clock moves"),
                Some("unauthenticated") => {
                    format!("the server at {url} did not take the token (a restarted demo has new ones)")
                }
                _ => format!("the server refused: {detail}"),
            });
        }
        println!("clock now {} ({} deadlines fired)", v["now"].as_str().unwrap_or("?"), v["fired"]);
        Ok(())
    })
}

#[derive(Args)]
pub struct CreateAdminArgs {
    /// The admin's login.
    #[arg(long, default_value = "admin")]
    login: String,
    #[command(flatten)]
    settings: Settings,
}

/// The first platform admin of an installation; the password comes from
/// `AFTERSALE_ADMIN_PASSWORD` so that it never appears in the shell history or `ps`.
pub fn create_admin(args: CreateAdminArgs) -> Result<(), String> {
    let password = std::env::var("AFTERSALE_ADMIN_PASSWORD").map_err(|_| "set AFTERSALE_ADMIN_PASSWORD")?;
    let config = args.settings.load()?;
    let hash = aftersale_http::auth::hash_password(&password).map_err(|e| e.0.detail.clone())?;
    let state = app::build_state(&config, None)?;
    let user = state
        .engine
        .create_user(aftersale_engine::accounts::NewUser {
            login: args.login,
            role: aftersale_engine::Role::Admin,
            shop_id: None,
            display_name: "Platform admin".into(),
            password_hash: hash,
        })
        .map_err(|e| e.to_string())?;
    let url = config.database.parsed_url()?;
    println!("created admin {} (id {}) in {}", user.login, user.id, url.display());
    Ok(())
}
