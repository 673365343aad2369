//! The command line: `tad serve | gateway | resource | artifact | jobs | appinhouse serve |
//! appinhouse publish FILE | migrate | import FILE.yaml | config keys`, with the flags
//! that override the config file and `TAD_*` variables.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use common::config::{Config, ConfigOverrides, keys};

/// TAD: deployment orchestration and in-house app distribution.
#[derive(Debug, Parser)]
#[command(name = "tad", version, about)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalFlags,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags shared by every command (each beats its `TAD_*` variable and the config file).
#[derive(Debug, Args, Clone, Default)]
pub struct GlobalFlags {
    /// TOML config file.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Where embedded databases and generated keys live (TAD_DATA_DIR).
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

/// `--listen` of the roles that serve HTTP.
#[derive(Debug, Args, Clone, Default)]
pub struct ListenFlag {
    /// HTTP listen address of the gateway (TAD_LISTEN).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
}

/// `--resource-database-url` of the roles that open the resource database.
#[derive(Debug, Args, Clone, Default)]
pub struct ResourceDatabaseFlag {
    /// Database of the resource service (TAD_RESOURCE_DATABASE_URL).
    #[arg(long, value_name = "URL")]
    pub resource_database_url: Option<String>,
}

/// `--resource-listen` of `tad resource`.
#[derive(Debug, Args, Clone, Default)]
pub struct ResourceListenFlag {
    /// gRPC listen address of `tad resource` (TAD_RESOURCE_LISTEN).
    #[arg(long, value_name = "ADDR")]
    pub resource_listen: Option<String>,
}

/// The roles: each one's `--help` ends with the variables it reads (from the key declarations).
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Everything in one process: gateway and services, embedded SQLite, in-process cache and bus.
    #[command(after_help = keys::role_help("serve"))]
    Serve {
        #[command(flatten)]
        listen: ListenFlag,
        #[command(flatten)]
        resource_database: ResourceDatabaseFlag,
    },
    /// The HTTP gateway alone; finds the services at TAD_<SERVICE>_ADDR.
    #[command(after_help = keys::role_help("gateway"))]
    Gateway {
        #[command(flatten)]
        listen: ListenFlag,
    },
    /// The resource service alone (gRPC): users, sessions, the catalog, clusters and hosts.
    #[command(after_help = keys::role_help("resource"))]
    Resource {
        #[command(flatten)]
        resource_database: ResourceDatabaseFlag,
        #[command(flatten)]
        resource_listen: ResourceListenFlag,
    },
    /// The artifact service alone (gRPC): stored files, packages, scripts, components.
    #[command(after_help = keys::role_help("artifact"))]
    Artifact,
    /// The jobs service alone (gRPC): templates, instances, runs and their execution.
    #[command(after_help = keys::role_help("jobs"))]
    Jobs,
    /// The appinhouse service alone, or publishing a build to it.
    Appinhouse {
        #[command(subcommand)]
        command: AppinhouseCommand,
    },
    /// Apply pending database migrations of every service, then exit.
    #[command(after_help = keys::role_help("migrate"))]
    Migrate {
        #[command(flatten)]
        resource_database: ResourceDatabaseFlag,
    },
    /// Load a catalog (users, product lines, applications, modules, envs, cluster types) from YAML.
    #[command(after_help = keys::role_help("import"))]
    Import {
        /// The YAML file.
        file: PathBuf,
        #[command(flatten)]
        resource_database: ResourceDatabaseFlag,
    },
    /// The audit trail of every service.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
        #[command(flatten)]
        resource_database: ResourceDatabaseFlag,
    },
    /// What can be configured (needs no valid configuration).
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
}

/// `tad audit ...`.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check every service's hash chain; name the first edited, removed or relinked event and
    /// exit with 1 when one is broken.
    #[command(after_help = keys::role_help("migrate"))]
    Verify,
}

/// `tad config ...`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Every TAD_* variable: file key, flag, default, the roles that read it, meaning.
    Keys {
        /// As the Markdown table of the README.
        #[arg(long, conflicts_with = "json")]
        markdown: bool,
        /// As JSON (deploy/config-keys.json, which deploy/validate_manifests.py reads).
        #[arg(long)]
        json: bool,
    },
}

/// `tad appinhouse ...`.
#[derive(Debug, Subcommand)]
pub enum AppinhouseCommand {
    /// The appinhouse service alone (gRPC); needs TAD_APPINHOUSE_SECRET_KEY.
    #[command(after_help = keys::role_help("appinhouse"))]
    Serve,
    /// Upload a build (.ipa/.apk/.exe/.msi) with a progress bar; the X-SecretKey comes from
    /// TAD_APPINHOUSE_SECRET_KEY.
    #[command(after_help = keys::role_help("publish"))]
    Publish(crate::publish::PublishArgs),
}

impl Cli {
    /// The flags of the command line, over the config file and the variables.
    fn overrides(&self) -> ConfigOverrides {
        let none = (&ListenFlag::default(), &ResourceDatabaseFlag::default());
        let (listen, resource_database) = match &self.command {
            Command::Serve {
                listen,
                resource_database,
            } => (listen, resource_database),
            Command::Gateway { listen } => (listen, none.1),
            Command::Resource {
                resource_database, ..
            }
            | Command::Migrate { resource_database }
            | Command::Audit {
                resource_database, ..
            }
            | Command::Import {
                resource_database, ..
            } => (none.0, resource_database),
            _ => none,
        };
        let resource_listen = match &self.command {
            Command::Resource {
                resource_listen, ..
            } => resource_listen.resource_listen.clone(),
            _ => None,
        };
        ConfigOverrides {
            config_file: self.global.config.clone(),
            listen: listen.listen.clone(),
            data_dir: self.global.data_dir.clone(),
            resource_database_url: resource_database.resource_database_url.clone(),
            resource_listen,
        }
    }
}

/// Runs one command to its end.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    if let Command::Config {
        command: ConfigCommand::Keys { markdown, json },
    } = &cli.command
    {
        let table = if *markdown {
            common::config::keys::markdown()
        } else if *json {
            common::config::keys::json()
        } else {
            common::config::keys::text()
        };
        print!("{table}");
        return Ok(());
    }
    let config = Config::load_from_process(&cli.overrides()).context("invalid configuration")?;
    match cli.command {
        Command::Serve { .. } => crate::runtime::serve(config).await,
        Command::Gateway { .. } => crate::runtime::gateway(config).await,
        Command::Resource { .. } => crate::runtime::resource(config).await,
        Command::Artifact => crate::runtime::artifact(config).await,
        Command::Jobs => crate::runtime::jobs(config).await,
        Command::Appinhouse {
            command: AppinhouseCommand::Serve,
        } => crate::runtime::appinhouse(config).await,
        Command::Appinhouse {
            command: AppinhouseCommand::Publish(args),
        } => {
            let secret = common::secrets::appinhouse_secret_key(&config, false)?;
            let answer = crate::publish::publish(args, &secret.key).await?;
            println!("{answer}");
            Ok(())
        }
        Command::Migrate { .. } => crate::runtime::migrate(config).await,
        Command::Import { file, .. } => crate::import::run(config, &file).await,
        Command::Audit {
            command: AuditCommand::Verify,
            ..
        } => crate::audit::run_verify(config).await,
        Command::Config { .. } => Ok(()),
    }
}
