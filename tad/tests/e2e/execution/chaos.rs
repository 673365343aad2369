//! Chaos (CI's PostgreSQL + Redis pass): three `tad jobs` replicas and two gateways as separate
//! processes run two-step deployments over SSH without pause, started through both gateways with
//! an `Idempotency-Key`, while a jobs replica is killed with `-9` every few seconds, at random or
//! at a crash point (right after a step's hosts all succeeded; between the last step and the
//! run's ending), and started again. Afterwards nothing runs, every run ended `success`, no host
//! task ran again after its success was recorded, no script ran to its end twice for one host
//! task (an orphan that ended on its own counts), no attempt overlapped an earlier attempt's
//! orphan, every repeated key answered the run it started, and every 6.1 was answered or
//! recovered by its key. The figures are printed for bench/README.md. `CHAOS_SECS` sets the
//! length of the chaos (60 s by default).

use super::*;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use support::replicated::{Layout, ReplicatedPlatform};

const INSTANCES: usize = 6;
const CHAOS_HOSTS: [&str; 2] = ["127.0.0.2", "127.0.0.3"];

/// Each execution of the script writes `start`, a `beat` every 0.1 s ($1 beats) and `end`, each
/// line with its process group's key and the time in ns, into `./events` of its directory.
const CHAOS_SCRIPT: &[u8] = b"#!/bin/bash\nkey=\"${TAD_RUN_KEY:-none}\"\necho \"start $key $(date +%s%N)\" >> ./events\nfor ((i = 0; i < $1; i++)); do sleep 0.1; echo \"beat $key $(date +%s%N)\" >> ./events; done\necho \"end $key $(date +%s%N)\" >> ./events\n";

/// How many tenths of a second step `sequence` of instance `index` lasts: 0.8 s, except the
/// second step of every other instance, which outlasts a lease and a sweep (6 s), so that some
/// orphans are still running when their step resumes (and are waited for) and others have ended
/// (and count).
fn beats(index: usize, sequence: u32) -> &'static str {
    if index % 2 == 1 && sequence == 1 {
        "60"
    } else {
        "8"
    }
}

/// A small xorshift generator (its seed is printed, so a failing schedule can be replayed).
struct Chance(u64);

impl Chance {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % bound
    }
}

/// What the drivers and the killer saw.
#[derive(Default)]
struct Record {
    /// Every 6.1 key sent, with the execution each answer named.
    answers: Vec<(String, String)>,
    /// Instants a replica was killed (or reached its crash point).
    kills: Vec<Instant>,
    /// Instants a driver saw its run `interrupted`.
    interrupted: Vec<Instant>,
    /// How long a restarted replica took to listen.
    restarts: Vec<Duration>,
    /// 6.1 calls that had to be sent again (no answer, or 5xx).
    resent: usize,
    crash_points: usize,
}

/// POSTs 6.1 with `key` through the gateways in turn until one answers; every answer names a run.
async fn start_with_key(
    gateways: &[Api],
    instance: &str,
    key: &str,
    record: &Mutex<Record>,
) -> String {
    let deadline = Instant::now() + Duration::from_secs(90);
    for attempt in 0.. {
        let api = &gateways[attempt % gateways.len()];
        let sent = api
            .http
            .post(format!(
                "{}/api/app/jobinstance/{instance}/executionall?wait=false",
                api.base
            ))
            .bearer_auth(api.token.as_deref().expect("token"))
            .header("Idempotency-Key", key)
            .json(&json!({}))
            .send()
            .await;
        let answer = match sent {
            Ok(response) if response.status().as_u16() == 200 => {
                response.json::<Value>().await.ok()
            }
            _ => None,
        };
        match answer {
            Some(answer) if answer["success"] == true => {
                let run = answer["data"]["execution_id"]
                    .as_str()
                    .expect("execution id")
                    .to_owned();
                record
                    .lock()
                    .expect("record")
                    .answers
                    .push((key.to_owned(), run.clone()));
                return run;
            }
            Some(answer) if answer["code"] != "service_unavailable" => {
                panic!("6.1 with key {key} refused: {answer}")
            }
            _ => {
                record.lock().expect("record").resent += 1;
                assert!(
                    Instant::now() < deadline,
                    "6.1 with key {key} never answered"
                );
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        }
    }
    unreachable!()
}

/// The run's tree through any gateway that answers.
async fn run_tree(gateways: &[Api], run: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    for attempt in 0.. {
        let (status, body) = gateways[attempt % gateways.len()]
            .get(&format!("/api/executions/{run}"))
            .await;
        if status == 200 && body["success"] == true {
            return body["data"].clone();
        }
        assert!(Instant::now() < deadline, "run {run} unreadable: {body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    unreachable!()
}

/// Deploys `instance` again and again until `until`, resuming every interrupted run with a new
/// key; answers the runs started.
async fn drive(
    gateways: Vec<Api>,
    instance: String,
    index: usize,
    until: Instant,
    record: Arc<Mutex<Record>>,
) -> Vec<String> {
    let mut runs = Vec::new();
    let mut round = 0;
    while Instant::now() < until {
        let run = start_with_key(
            &gateways,
            &instance,
            &format!("chaos-{index}-{round}"),
            &record,
        )
        .await;
        let mut resumes = 0;
        loop {
            let tree = run_tree(&gateways, &run).await;
            match tree["status"].as_str().unwrap_or_default() {
                "running" => tokio::time::sleep(Duration::from_millis(150)).await,
                "interrupted" => {
                    record
                        .lock()
                        .expect("record")
                        .interrupted
                        .push(Instant::now());
                    let key = format!("chaos-{index}-{round}-resume-{resumes}");
                    let resumed = start_with_key(&gateways, &instance, &key, &record).await;
                    assert_eq!(resumed, run, "6.1 resumes the interrupted run");
                    resumes += 1;
                }
                "success" => break,
                other => panic!("run {run} ended {other}: {tree}"),
            }
        }
        runs.push(run);
        round += 1;
    }
    runs
}

/// Kills a jobs replica every 2-5 s until `until`: mostly `kill -9` at a random instant, every
/// third time by starting it with a crash point and waiting for it to get there.
fn kill_replicas(
    platform: &Mutex<ReplicatedPlatform>,
    until: Instant,
    mut chance: Chance,
    record: &Mutex<Record>,
) {
    let points = ["step-hosts-succeeded", "before-run-end"];
    let mut action = 0;
    while Instant::now() < until {
        std::thread::sleep(Duration::from_millis(2000 + chance.below(3000)));
        let victim = chance.below(3) as usize;
        let mut platform = platform.lock().expect("platform");
        platform.kill_jobs(victim);
        record.lock().expect("record").kills.push(Instant::now());
        if action % 3 == 2 {
            let point = points[(action / 3) % 2];
            platform.start_jobs(victim, &[("TAD_TEST_CRASH_AT", point.to_owned())]);
            let deadline = Instant::now() + Duration::from_secs(20);
            while !platform.jobs_ended(victim) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            if platform.jobs[victim].is_none() {
                let mut record = record.lock().expect("record");
                record.kills.push(Instant::now());
                record.crash_points += 1;
            } else {
                platform.kill_jobs(victim);
            }
        } else {
            std::thread::sleep(Duration::from_millis(200 + chance.below(1300)));
        }
        let started = Instant::now();
        platform.start_jobs(victim, &[]);
        record
            .lock()
            .expect("record")
            .restarts
            .push(started.elapsed());
        action += 1;
    }
}

/// (kind, key, ns) of every line the script wrote.
fn script_lines(root: &Path) -> Vec<(String, String, u128)> {
    let mut lines = Vec::new();
    for index in 0..INSTANCES {
        for ip in CHAOS_HOSTS {
            let file = root.join(format!("chaos-{index}")).join(ip).join("events");
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            for line in text.lines() {
                let words: Vec<&str> = line.split(' ').collect();
                if let [kind, key, ns] = words[..] {
                    lines.push((kind.to_owned(), key.to_owned(), ns.parse().expect("ns")));
                }
            }
        }
    }
    lines
}

/// Host task id and attempt of a process group key `tad-<task>-<attempt>[-final]`.
fn task_attempt(key: &str) -> (String, u32) {
    let key = key.strip_suffix("-final").unwrap_or(key);
    let rest = key.strip_prefix("tad-").expect("a tad key");
    let (task, attempt) = rest.rsplit_once('-').expect("an attempt");
    (task.to_owned(), attempt.parse().expect("attempt number"))
}

fn percentile(values: &mut [Duration], share: f64) -> Duration {
    values.sort();
    let at = ((values.len() as f64 - 1.0) * share).round() as usize;
    values.get(at).copied().unwrap_or_default()
}

async fn configure_chaos(admin: &Api, sshd: &TestSshd, root: &Path) -> Vec<String> {
    post_all(
        admin,
        &[
            product_line("pl1", "pl"),
            application("app1", "shop", "pl1"),
        ],
    )
    .await;
    // One environment per instance: runs of one application in one environment take turns.
    let mut clusters = Vec::new();
    for index in 0..INSTANCES {
        let env_id = format!("env{index}");
        post_all(admin, &[env(&env_id, &env_id)]).await;
        let cluster = admin
            .post_id(
                "/api/resource/clusters/aos_create",
                &json!({"name": "chaos", "env_id": env_id, "app_id": "app1"}),
            )
            .await;
        let mut hosts = Vec::new();
        for ip in CHAOS_HOSTS {
            hosts.push(
                admin
                    .post_id(
                        "/api/resource/hosts/aos_create",
                        &json!({"host_IP": ip,
                "host_name": format!("h-{index}-{ip}"), "ssh_user": PASSWORD_USER,
                "ssh_port": sshd.port.to_string(), "ssh_passwd": sshd.password,
                "productLine_id": "pl1", "env_id": env_id}),
                    )
                    .await,
            );
        }
        bind_hosts(admin, &cluster, &hosts).await;
        clusters.push(cluster);
    }
    let script = upload_reviewed_script(admin, "chaos", "chaos.sh", CHAOS_SCRIPT).await;
    let template = support::fixtures::template_with_methods(
        admin,
        "chaos",
        "app1",
        &[("custom", "cu1"), ("custom", "cu1")],
    )
    .await;
    let mut instances = Vec::new();
    for (index, cluster) in clusters.iter().enumerate() {
        let instance = admin.post_id("/api/app/jobinstance/create", &json!({"name": format!("chaos-{index}"),
            "env_id": format!("env{index}"), "application_id": "app1", "job_template_id": template})).await;
        for sequence in 0..2_u32 {
            let scripts: Vec<Value> = CHAOS_HOSTS
                .iter()
                .map(|ip| {
                    let dir = root.join(format!("chaos-{index}")).join(ip);
                    shared_dir(&dir);
                    json!({"id": script, "dest": dir.display().to_string(), "host_IP": [ip],
                        "parameter": beats(index, sequence), "execute_type": "shell"})
                })
                .collect();
            admin
                .post_ok(
                    &format!("/api/app/jobinstance/{instance}/cu1/{sequence}/relation/alldata"),
                    &json!({"cluster": {"cluster_id": cluster}, "scripts": {"scripts_data": scripts}}),
                )
                .await;
        }
        instances.push(instance);
    }
    instances
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn deployments_keep_their_invariants_while_jobs_replicas_are_killed() {
    if !support::split_env::postgres_and_redis_given() {
        return;
    }
    let Some(sshd) = TestSshd::start() else {
        return;
    };
    let chaos_secs: u64 = std::env::var("CHAOS_SECS")
        .ok()
        .and_then(|secs| secs.parse().ok())
        .unwrap_or(60);
    let root = PathBuf::from("/tmp").join(unique("tad-chaos"));
    shared_dir(&root);
    let work_dir = root.join("work").display().to_string();
    let platform = ReplicatedPlatform::start(Layout {
        admin_password: ADMIN_PASSWORD,
        jobs_replicas: 3,
        gateways: 2,
        env: &[
            ("TAD_EXECUTION_LEASE_SECS", "3"),
            ("TAD_EXECUTION_WORK_DIR", &work_dir),
        ],
    });
    let admin = Api::new(&platform.gateway_urls[0])
        .login("admin", ADMIN_PASSWORD)
        .await;
    let gateways: Vec<Api> = platform
        .gateway_urls
        .iter()
        .map(|url| admin.with_base(url))
        .collect();
    let instances = configure_chaos(&admin, &sshd, &root).await;

    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_nanos() as u64 | 1)
        .unwrap_or(88_172_645_463_325_252);
    println!("chaos: seed {seed}, {chaos_secs} s");
    let began = Instant::now();
    let until = began + Duration::from_secs(chaos_secs);
    let record = Arc::new(Mutex::new(Record::default()));
    let platform = Arc::new(Mutex::new(platform));
    let killer = {
        let (platform, record) = (platform.clone(), record.clone());
        tokio::task::spawn_blocking(move || kill_replicas(&platform, until, Chance(seed), &record))
    };
    let drivers: Vec<_> = instances
        .iter()
        .enumerate()
        .map(|(index, instance)| {
            let gateways = gateways
                .iter()
                .map(|api| api.with_base(&api.base))
                .collect();
            tokio::spawn(drive(
                gateways,
                instance.clone(),
                index,
                until,
                record.clone(),
            ))
        })
        .collect();
    killer.await.expect("killer");
    let mut runs = Vec::new();
    for driver in drivers {
        runs.extend(driver.await.expect("driver"));
    }
    let elapsed = began.elapsed();

    // Every key answered one run; repeated now, each answers it again and starts nothing.
    let record = Arc::try_unwrap(record)
        .ok()
        .expect("record")
        .into_inner()
        .expect("record");
    let mut by_key: HashMap<&str, &str> = HashMap::new();
    for (key, run) in &record.answers {
        let first = by_key.entry(key).or_insert(run);
        assert_eq!(first, run, "key {key} answered two runs");
    }
    for (index, instance) in instances.iter().enumerate() {
        let key = format!("chaos-{index}-0");
        let again = start_with_key(&gateways, instance, &key, &Mutex::new(Record::default())).await;
        assert_eq!(
            by_key[key.as_str()],
            again,
            "a repeated key answers its run"
        );
    }
    let mut distinct = runs.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(
        distinct.len(),
        runs.len(),
        "every new key started a new run"
    );
    let mut listed = 0;
    for instance in &instances {
        let (_, page) = admin
            .get(&format!(
                "/api/app/jobinstance/{instance}/executions?page=1&page_size=1"
            ))
            .await;
        listed += page["count"].as_u64().expect("count") as usize;
    }
    assert_eq!(
        listed,
        runs.len(),
        "no run was started but the ones answered"
    );

    // Nothing runs, and every run (its steps all succeeded) ended `success`; no host task was
    // running again after its success was recorded, and no step after its success.
    let mut host_tasks = 0;
    let mut run_of_task: HashMap<String, String> = HashMap::new();
    for run in &runs {
        let tree = run_tree(&gateways, run).await;
        assert_eq!(tree["status"], "success", "{tree}");
        for step in tree["steps"].as_array().expect("steps") {
            assert_eq!(step["status"], "success", "{tree}");
            for host in step["hosts"].as_array().expect("hosts") {
                host_tasks += 1;
                let task = host["id"].as_str().expect("host task id").to_owned();
                run_of_task.insert(task, run.clone());
            }
        }
        let mut succeeded: Vec<String> = Vec::new();
        for (_, _, data) in read_events(&gateways[0], run, None).await {
            let subject = match data["scope"].as_str() {
                Some("host") => format!("host task {}", data["host_task"]),
                Some("step") => format!("step {}", data["sequence"]),
                _ => continue,
            };
            if data["status"] == "success" {
                succeeded.push(subject);
            } else {
                assert!(
                    !succeeded.contains(&subject),
                    "run {run}: {subject} went {} after its success",
                    data["status"]
                );
            }
        }
    }

    // On the hosts: no attempt started before every line of an earlier attempt of its task was
    // written (an orphan was reaped first), and no script ended twice for one task (an orphan
    // that ended on its own counts for the resume).
    let mut attempts: HashMap<String, HashMap<u32, (u128, u128, bool)>> = HashMap::new();
    let mut starts: HashMap<String, usize> = HashMap::new();
    let lines = script_lines(&root);
    assert!(!lines.is_empty(), "the scripts wrote their lines");
    for (kind, key, ns) in lines {
        if kind == "start" {
            let count = starts.entry(key.clone()).or_default();
            *count += 1;
            assert_eq!(*count, 1, "{key} started twice: one attempt ran twice");
        }
        let (task, attempt) = task_attempt(&key);
        let span = attempts
            .entry(task)
            .or_default()
            .entry(attempt)
            .or_insert((ns, ns, false));
        span.0 = span.0.min(ns);
        span.1 = span.1.max(ns);
        span.2 |= kind == "end";
    }
    let mut ended_twice = 0;
    let mut reaped = 0;
    let mut twice = Vec::new();
    for (task, spans) in &attempts {
        let mut ordered: Vec<_> = spans.iter().collect();
        ordered.sort();
        for pair in ordered.windows(2) {
            let ((earlier, (_, last_line, _)), (later, (first_line, _, _))) = (pair[0], pair[1]);
            assert!(
                last_line < first_line,
                "task {task}: attempt {earlier} still wrote {} ms after attempt {later} started",
                (last_line - first_line) / 1_000_000
            );
            reaped += 1;
        }
        if spans.values().filter(|(_, _, ended)| *ended).count() > 1 {
            ended_twice += 1;
            twice.push(task.clone());
        }
    }
    // What a failure needs to be understood: the task's attempts on the host and its log.
    for task in &twice {
        let mut ordered: Vec<_> = attempts[task].iter().collect();
        ordered.sort();
        println!(
            "chaos: task {task} ended twice; attempts (first ns, last ns, ended): {ordered:?}"
        );
        if let Some(run) = run_of_task.get(task) {
            let log = support::events::read_task_log(&gateways[0], run, task).await;
            println!("chaos: run {run}, log of task {task}:\n{log}");
        }
    }
    assert!(!runs.is_empty() && !record.kills.is_empty());
    assert_eq!(
        ended_twice, 0,
        "a step ran to its end twice on one host in one run"
    );
    assert_eq!(
        starts.len(),
        attempts.values().map(HashMap::len).sum::<usize>()
    );

    let mut recoveries: Vec<Duration> = record
        .interrupted
        .iter()
        .filter_map(|seen| {
            let kill = record.kills.iter().filter(|kill| *kill <= seen).max()?;
            Some(seen.duration_since(*kill))
        })
        .collect();
    let mut restarts = record.restarts.clone();
    println!(
        "chaos: {} runs ({host_tasks} host tasks) in {:.0} s; {} kills ({} at crash points); {} interruptions resumed; {} later attempts after an earlier one; {} 6.1 calls sent again; {ended_twice} scripts ended twice for one task",
        runs.len(),
        elapsed.as_secs_f64(),
        record.kills.len() - record.crash_points,
        record.crash_points,
        record.interrupted.len(),
        reaped,
        record.resent,
    );
    println!(
        "chaos: kill to interrupted seen: median {:?}, max {:?}; replica restart: median {:?}, max {:?}",
        percentile(&mut recoveries, 0.5),
        percentile(&mut recoveries, 1.0),
        percentile(&mut restarts, 0.5),
        percentile(&mut restarts, 1.0),
    );
    drop(platform);
    let _ = std::fs::remove_dir_all(&root);
}
