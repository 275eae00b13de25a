//! A real WordPress site for the WordPress plugin's end-to-end tests.
//!
//! WordPress comes from Debian's `wordpress` package (6.1) and runs on
//! PHP's built-in server against the machine's MariaDB. The first use
//! installs the packages when they are missing (`apt-get`, as root). Each
//! [`WordPressSite::start`] then makes a site of its own: a copy of
//! `/usr/share/wordpress` in a temporary folder (Debian's `wp-config.php`
//! there reads `/etc/wordpress/config-<host>.php` and puts `wp-content` in
//! `/var/lib/wordpress`: the copy gets its own config and `wp-content`
//! instead), a fresh database, an installed site with pretty permalinks,
//! an administrator with an application password, and
//! `php -S 127.0.0.1:<port>` with a router that hands every path that is
//! not a file to `index.php` (so `/wp-json/…` works). Dropping it stops the
//! server's process group and drops the database.
//!
//! The database server is `WORDPRESS_TEST_DB_HOST` (default
//! `127.0.0.1:3306`) as `WORDPRESS_TEST_DB_USER` (default `root`) with
//! `WORDPRESS_TEST_DB_PASSWORD` (default empty).

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine as _;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::TempDir;

/// Where Debian's package puts WordPress.
const WORDPRESS_DIR: &str = "/usr/share/wordpress";
/// The Debian packages the site needs.
const PACKAGES: [&str; 6] = [
    "wordpress",
    "php-cli",
    "php-mysql",
    "php-curl",
    "php-xml",
    "php-mbstring",
];
/// How long a site may take to answer after its server starts.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// The administrator's login.
pub const ADMIN: &str = "admin";

/// Tests of one binary install one at a time.
static INSTALL: Mutex<()> = Mutex::new(());

/// A running WordPress site; dropped, it is stopped and its database dropped.
#[derive(Debug)]
pub struct WordPressSite {
    /// `http://127.0.0.1:<port>`, the site's address (`WP_HOME`).
    pub url: String,
    /// The administrator's application password.
    pub app_password: String,
    /// The administrator's user id.
    pub admin_id: u64,
    /// A client for calls made as the administrator.
    pub client: reqwest::Client,
    database: String,
    child: Child,
    log: PathBuf,
    // Dropped after the process is stopped.
    dir: TempDir,
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

fn db_host() -> String {
    env_or("WORDPRESS_TEST_DB_HOST", "127.0.0.1:3306")
}

fn db_user() -> String {
    env_or("WORDPRESS_TEST_DB_USER", "root")
}

fn db_password() -> String {
    env_or("WORDPRESS_TEST_DB_PASSWORD", "")
}

/// Installs the Debian packages unless WordPress and PHP are there.
pub fn ensure_installed() {
    let _guard = INSTALL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let php_ready = Command::new("php")
        .args(["-r", "exit(function_exists('mysqli_connect') ? 0 : 1);"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if php_ready && Path::new(WORDPRESS_DIR).join("wp-load.php").is_file() {
        return;
    }
    // A fresh machine may have no package lists yet.
    run(
        Command::new("apt-get")
            .args(["update", "-q"])
            .env("DEBIAN_FRONTEND", "noninteractive"),
        "refresh the package lists with apt-get update (as root)",
    );
    let mut install = Command::new("apt-get");
    install
        .args(["install", "-y", "--no-install-recommends"])
        .args(PACKAGES)
        .env("DEBIAN_FRONTEND", "noninteractive");
    run(
        &mut install,
        "install WordPress and PHP with apt-get (the WordPress end-to-end tests need \
         Debian's wordpress, php-cli, php-mysql, php-curl, php-xml and php-mbstring, and root)",
    );
}

fn run(command: &mut Command, what: &str) -> String {
    let output = command
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|err| panic!("{what}: {err}"));
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("find a free port")
        .port()
}

/// A PHP single-quoted string literal.
fn php_string(value: &str) -> String {
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"))
}

fn wp_config(database: &str, url: &str) -> String {
    let salts: String = [
        "AUTH_KEY",
        "SECURE_AUTH_KEY",
        "LOGGED_IN_KEY",
        "NONCE_KEY",
        "AUTH_SALT",
        "SECURE_AUTH_SALT",
        "LOGGED_IN_SALT",
        "NONCE_SALT",
    ]
    .iter()
    .map(|name| format!("define('{name}', 'plaza-test-{name}');\n"))
    .collect();
    format!(
        "<?php
define('DB_NAME', {database});
define('DB_USER', {user});
define('DB_PASSWORD', {password});
define('DB_HOST', {host});
define('DB_CHARSET', 'utf8mb4');
define('DB_COLLATE', '');
{salts}$table_prefix = 'wp_';
// Application passwords need https, or a local environment.
define('WP_ENVIRONMENT_TYPE', 'local');
define('WP_HTTP_BLOCK_EXTERNAL', true);
define('DISABLE_WP_CRON', true);
define('AUTOMATIC_UPDATER_DISABLED', true);
define('WP_HOME', {url});
define('WP_SITEURL', {url});
// Debian's default puts wp-content in /var/lib/wordpress: keep it here.
define('WP_CONTENT_DIR', __DIR__ . '/wp-content');
define('WP_DEBUG', false);
if (!defined('ABSPATH')) {{
    define('ABSPATH', __DIR__ . '/');
}}
require_once ABSPATH . 'wp-settings.php';
",
        database = php_string(database),
        user = php_string(&db_user()),
        password = php_string(&db_password()),
        host = php_string(&db_host()),
        url = php_string(url),
    )
}

/// Creates the database, installs the site, sets pretty permalinks and
/// makes an application password; prints `{user_id, app_password}`.
const INSTALL_PHP: &str = r"<?php
[$script, $root, $host, $user, $password, $database] = $argv;
$parts = explode(':', $host);
$db = new mysqli($parts[0], $user, $password, '', isset($parts[1]) ? (int) $parts[1] : 3306);
$db->query('CREATE DATABASE `' . $database . '` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci');
$db->close();
define('WP_INSTALLING', true);
$_SERVER['HTTP_HOST'] = '127.0.0.1';
require $root . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
$result = wp_install('Plaza Test Blog', 'admin', 'admin@example.com', true, '', 'admin-password-not-used');
update_option('permalink_structure', '/%postname%/');
update_option('comment_moderation', '0');
update_option('comment_previously_approved', '0');
flush_rewrite_rules();
[$app_password] = WP_Application_Passwords::create_new_application_password($result['user_id'], ['name' => 'plaza']);
echo json_encode(['user_id' => $result['user_id'], 'app_password' => $app_password]);
";

/// Drops the site's database.
const DROP_PHP: &str = r"<?php
[$script, $host, $user, $password, $database] = $argv;
$parts = explode(':', $host);
$db = new mysqli($parts[0], $user, $password, '', isset($parts[1]) ? (int) $parts[1] : 3306);
$db->query('DROP DATABASE IF EXISTS `' . $database . '`');
";

/// Serves files that exist, hands everything else to WordPress.
const ROUTER_PHP: &str = r"<?php
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
if ($path !== '/' && is_file($_SERVER['DOCUMENT_ROOT'] . $path)) {
    return false;
}
$_SERVER['SCRIPT_NAME'] = '/index.php';
require $_SERVER['DOCUMENT_ROOT'] . '/index.php';
";

/// A must-use plugin: the machine has no mail server, so WordPress's
/// notifications (new site, new comment) are not sent.
const NO_MAIL_PHP: &str = "<?php\nadd_filter('pre_wp_mail', '__return_false');\n";

impl WordPressSite {
    /// Installs a site and starts serving it; waits until it answers.
    pub async fn start() -> Self {
        ensure_installed();
        let dir = TempDir::new("plaza-wordpress");
        let root = dir.0.join("root");
        run(
            Command::new("cp").arg("-r").arg(WORDPRESS_DIR).arg(&root),
            "copy WordPress",
        );
        // Debian's own config and its link to /etc/wordpress/htaccess.
        let _ = std::fs::remove_file(root.join(".htaccess"));
        for folder in ["themes", "plugins", "uploads", "mu-plugins"] {
            std::fs::create_dir_all(root.join("wp-content").join(folder))
                .expect("create wp-content");
        }
        std::fs::write(
            root.join("wp-content/mu-plugins/plaza-no-mail.php"),
            NO_MAIL_PHP,
        )
        .expect("write the mail plugin");
        let port = free_port();
        let url = format!("http://127.0.0.1:{port}");
        let database = format!("plaza_wp_{}", uuid::Uuid::now_v7().simple());
        std::fs::write(root.join("wp-config.php"), wp_config(&database, &url))
            .expect("write wp-config.php");
        std::fs::write(dir.0.join("install.php"), INSTALL_PHP).expect("write install.php");
        std::fs::write(dir.0.join("router.php"), ROUTER_PHP).expect("write router.php");
        let installed = run(
            Command::new("php")
                .arg(dir.0.join("install.php"))
                .arg(&root)
                .args([db_host(), db_user(), db_password(), database.clone()]),
            "install WordPress (is MariaDB running on WORDPRESS_TEST_DB_HOST, default 127.0.0.1:3306?)",
        );
        // Anything WordPress printed before the JSON (notices) is skipped.
        let json_at = installed
            .rfind("{\"user_id\"")
            .unwrap_or_else(|| panic!("the install printed no application password:\n{installed}"));
        let answer: Value =
            serde_json::from_str(&installed[json_at..]).expect("the install's answer");
        let log = dir.0.join("php-server.log");
        let log_file = std::fs::File::create(&log).expect("create the server log");
        let child = Command::new("php")
            .arg("-S")
            .arg(format!("127.0.0.1:{port}"))
            .arg("-t")
            .arg(&root)
            .arg(dir.0.join("router.php"))
            .env("PHP_CLI_SERVER_WORKERS", "4")
            .current_dir(&dir.0)
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("log file"))
            .stderr(log_file)
            .process_group(0)
            .spawn()
            .expect("start php -S");
        let mut site = Self {
            url,
            app_password: answer["app_password"]
                .as_str()
                .expect("app_password")
                .to_owned(),
            admin_id: answer["user_id"].as_u64().expect("user_id"),
            client: reqwest::Client::new(),
            database,
            child,
            log,
            dir,
        };
        site.wait_until_ready().await;
        site
    }

    async fn wait_until_ready(&mut self) {
        let deadline = Instant::now() + START_TIMEOUT;
        let index = format!("{}/wp-json/", self.url);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "php -S exited ({status}) before answering:\n{}",
                    self.log_tail()
                );
            }
            if let Ok(response) = self.client.get(&index).send().await
                && response.status().is_success()
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "WordPress did not answer within {START_TIMEOUT:?}:\n{}",
                self.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    /// `Authorization` for the administrator's application password.
    pub fn basic_auth(&self) -> String {
        let pair = format!("{ADMIN}:{}", self.app_password);
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        )
    }

    /// Calls a `wp/v2` route (`path` starts with `/`, query included) as
    /// the administrator; answers the status and the JSON body.
    pub async fn try_call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .client
            .request(method, format!("{}/wp-json/wp/v2{path}", self.url))
            .header("Authorization", self.basic_auth());
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("call WordPress");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Calls a `wp/v2` route as the administrator, asserting success.
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let (status, value) = self.try_call(method.clone(), path, body).await;
        assert!(status.is_success(), "{method} {path}: {status} {value}");
        value
    }

    /// One post in the `edit` context (raw content, any status).
    pub async fn post(&self, id: &str) -> Value {
        self.call(Method::GET, &format!("/posts/{id}?context=edit"), None)
            .await
    }

    /// One comment in the `edit` context.
    pub async fn comment(&self, id: &str) -> Value {
        self.call(Method::GET, &format!("/comments/{id}?context=edit"), None)
            .await
    }

    /// A visitor's comment on `post` (made by the administrator with the
    /// visitor's name and address, as moderators may): answers its id.
    pub async fn visitor_comment(
        &self,
        post: &str,
        name: &str,
        text: &str,
        status: &str,
    ) -> String {
        let comment = self
            .call(
                Method::POST,
                "/comments",
                Some(json!({
                    "post": post.parse::<u64>().expect("a post id"),
                    "author_name": name,
                    "author_email": format!("{}@example.com", name.to_lowercase().replace(' ', ".")),
                    "content": text,
                    "status": status,
                })),
            )
            .await;
        assert_eq!(comment["author"], 0, "a visitor has no account: {comment}");
        comment["id"].as_u64().expect("comment id").to_string()
    }

    /// Creates a post directly on the site; answers its id.
    pub async fn create_post(&self, title: &str) -> String {
        let post = self
            .call(
                Method::POST,
                "/posts",
                Some(json!({"title": title, "content": "<p>Written on the site</p>", "status": "publish"})),
            )
            .await;
        post["id"].as_u64().expect("post id").to_string()
    }

    /// The names of the terms with these ids in a taxonomy.
    pub async fn term_names(&self, taxonomy: &str, ids: &Value) -> Vec<String> {
        let mut names = Vec::new();
        for id in ids.as_array().cloned().unwrap_or_default() {
            let term = self
                .call(Method::GET, &format!("/{taxonomy}/{id}"), None)
                .await;
            names.push(term["name"].as_str().unwrap_or_default().to_owned());
        }
        names.sort();
        names
    }
}

impl Drop for WordPressSite {
    /// Stops the whole process group (`php -S` and its workers): SIGTERM,
    /// then SIGKILL if it lingers; then drops the database.
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut stopped = false;
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                stopped = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // Workers may outlive the parent: the group is killed either way.
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        if !stopped {
            let _ = self.child.wait();
        }
        let drop_script = self.dir.0.join("drop.php");
        if std::fs::write(&drop_script, DROP_PHP).is_ok() {
            let _ = Command::new("php")
                .arg(&drop_script)
                .args([db_host(), db_user(), db_password(), self.database.clone()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}
