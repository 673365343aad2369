//! `tad audit verify`: checks the audit chain of every service's database (issue 20) and names
//! the first event that was edited, removed or relinked; fails when any chain is broken.

use anyhow::Context;
use common::{
    audit,
    config::Config,
    db::{Database, DbConnection, DbError},
};

/// What one service's chain is: whole with N events, or broken at a named event.
pub type ChainReport = (&'static str, Result<audit::Verified, audit::Broken>);

/// Opens each service's database (migrating it first, as every role does) and verifies its chain.
pub async fn verify_all(config: &Config) -> anyhow::Result<Vec<ChainReport>> {
    type Opener = fn(&Config) -> Result<Database, DbError>;
    let databases: [(&'static str, Opener); 4] = [
        ("resource", svc_resource::open_database),
        ("artifact", svc_artifact::open_database),
        ("jobs", svc_jobs::open_database),
        ("appinhouse", svc_appinhouse::open_database),
    ];
    let mut reports = Vec::new();
    for (name, open) in databases {
        let blocking_config = config.clone();
        let database = tokio::task::spawn_blocking(move || open(&blocking_config))
            .await
            .context("database task stopped")?
            .with_context(|| format!("cannot open the {name} database"))?;
        let outcome = database
            .run(|connection: &mut DbConnection| Ok::<_, DbError>(audit::verify(connection)?))
            .await
            .with_context(|| format!("cannot read the {name} audit trail"))?;
        reports.push((name, outcome));
    }
    Ok(reports)
}

/// `tad audit verify`: one line per service; an error when a chain is broken.
pub async fn run_verify(config: Config) -> anyhow::Result<()> {
    let reports = verify_all(&config).await?;
    let mut broken = Vec::new();
    for (name, outcome) in reports {
        match outcome {
            Ok(verified) => println!("{name}: {} audit events, chain intact", verified.events),
            Err(problem) => {
                println!("{name}: BROKEN: {problem}");
                broken.push(format!("{name}: {problem}"));
            }
        }
    }
    if broken.is_empty() {
        Ok(())
    } else {
        anyhow::bail!("the audit trail was tampered with ({})", broken.join("; "))
    }
}
