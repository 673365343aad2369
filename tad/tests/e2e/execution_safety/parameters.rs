//! Script parameters reach the script as argv words whatever shell metacharacters they hold, and
//! paths with spaces and metacharacters are taken literally.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn script_parameters_reach_the_script_as_argv_words_and_paths_are_taken_literally() {
    let Some(bench) = Bench::start("tad-safety-argv").await else {
        return;
    };
    let fx = bench.root.join("effects");
    shared_dir(&fx);
    let fx = fx.display().to_string();
    let root = bench.root.display().to_string();
    let cluster = bench.cluster("argv-c", &[0]).await;
    let instance = bench.instance("argv", "custom", "cu1", &cluster).await;

    // Each case: the parameter as bound, and the argv words the script must get.
    let cases: Vec<(String, Vec<String>)> = [
        (
            format!("c01 safe; touch {fx}/semicolon"),
            vec!["c01", "safe;", "touch", &format!("{fx}/semicolon")],
        ),
        (
            format!("c02 $(touch {fx}/subst)"),
            vec!["c02", "$(touch", &format!("{fx}/subst)")],
        ),
        (
            format!("c03 `touch {fx}/backtick`"),
            vec!["c03", "`touch", &format!("{fx}/backtick`")],
        ),
        (
            format!("c04 x | touch {fx}/pipe"),
            vec!["c04", "x", "|", "touch", &format!("{fx}/pipe")],
        ),
        (
            format!("c05 x && touch {fx}/and || touch {fx}/or"),
            vec![
                "c05",
                "x",
                "&&",
                "touch",
                &format!("{fx}/and"),
                "||",
                "touch",
                &format!("{fx}/or"),
            ],
        ),
        (
            format!("c06 x > {fx}/redirect 2>{fx}/redirect2 <{fx}/in"),
            vec![
                "c06",
                "x",
                ">",
                &format!("{fx}/redirect"),
                &format!("2>{fx}/redirect2"),
                &format!("<{fx}/in"),
            ],
        ),
        (
            "c07 * /etc/pass* ? [a-z]*".to_owned(),
            vec!["c07", "*", "/etc/pass*", "?", "[a-z]*"],
        ),
        (
            "c08 $HOME ${HOME} ${USER:-x} ~ $0 $$ $#".to_owned(),
            vec![
                "c08",
                "$HOME",
                "${HOME}",
                "${USER:-x}",
                "~",
                "$0",
                "$$",
                "$#",
            ],
        ),
        (
            "c10 'quoted with spaces' \"double quoted\" mixed' 'word".to_owned(),
            vec!["c10", "quoted with spaces", "double quoted", "mixed word"],
        ),
        (
            format!("c11 \"$(touch {fx}/dq) `touch {fx}/dq2` $HOME\" 'it'\\''s' \"a\\\"b\""),
            vec![
                "c11",
                &format!("$(touch {fx}/dq) `touch {fx}/dq2` $HOME"),
                "it's",
                "a\"b",
            ],
        ),
        (
            format!("c12 a\\ b \\$HOME \\; '' x & touch {fx}/amp"),
            vec![
                "c12",
                "a b",
                "$HOME",
                ";",
                "",
                "x",
                "&",
                "touch",
                &format!("{fx}/amp"),
            ],
        ),
    ]
    .into_iter()
    .map(|(parameter, words)| (parameter, words.into_iter().map(str::to_owned).collect()))
    .collect();

    // Paths with spaces and metacharacters: they must be used literally.
    let script_dest = format!("{root}/scripts dir; touch {fx}/dest $(touch {fx}/dest2) &");
    let artifact_dest = format!("{root}/art `touch {fx}/art` | x");
    let config_dest = format!("{root}/conf $(touch {fx}/conf) ;");
    let target_name = "my app's $(touch x) & `y`.conf";
    let artifact = tar_gz(&[("app.txt", b"artifact bytes\n".to_vec())]);
    let artifact_file = bench.artifact("argv", "argv.tar.gz", &artifact).await;
    let (j2, yml) = (
        b"listen={{ port }}\n".to_vec(),
        b"- key: port\n  rule: '^[0-9]+$'\n".to_vec(),
    );
    let (_, body) = post_multipart(
        &bench.admin,
        "/api/artifact/configure/aos_upload",
        &[("app.conf.j2", j2.clone()), ("app.conf.yml", yml.clone())],
        &[
            ("app_id", "app1".into()),
            ("name", "app_config".into()),
            ("version", "1".into()),
            (
                "file_md5",
                json!({"app.conf.j2": md5_hex(&j2), "app.conf.yml": md5_hex(&yml)}).to_string(),
            ),
        ],
    )
    .await;
    let template_file = assert_success(&body)[0]["id"]
        .as_str()
        .expect("j2 id")
        .to_owned();
    bench
        .bind(
            &instance,
            "cu1",
            json!({"actemplates": {"file_id": template_file, "groups": []}}),
        )
        .await;
    let (_, body) = bench
        .admin
        .get(&format!(
            "/api/app/jobinstance/{instance}/cu1/0/actemplate/config/desc"
        ))
        .await;
    let port_node = assert_success(&body)[0]["id"]
        .as_str()
        .expect("port node")
        .to_owned();
    let scripts: Vec<Value> = cases
        .iter()
        .map(|(parameter, _)| {
            json!({"id": bench.script_file_id, "dest": script_dest, "host_IP": [],
                "parameter": parameter, "execute_type": "shell"})
        })
        .collect();
    bench
        .bind(
            &instance,
            "cu1",
            json!({
                "artifacts": [{"file_id": artifact_file, "dest": artifact_dest, "host_IP": []}],
                "actemplates": {"file_id": template_file, "groups": [{"dest": config_dest,
                    "host_IP": [], "configs": {port_node: "8080"}, "targetname": target_name}]},
            }),
        )
        .await;
    let script_path = format!("/api/app/jobinstance/{instance}/cu1/0/relation/script");
    let binding = json!({"script_id": "", "scripts_data": scripts});
    bench.admin.post_ok(&script_path, &binding).await;

    for (transport, use_tad_host) in TRANSPORTS {
        let data = bench.run(&instance, use_tad_host).await;
        let run = run_id(&data);
        let logs = bench.logs(&run).await;
        // The security assertion first: whatever the run's outcome, nothing the values said ran.
        assert_eq!(
            entries(Path::new(&fx)),
            Vec::<String>::new(),
            "{transport}: nothing a parameter or path said ran"
        );
        assert_eq!(data["result"], true, "{transport}: {data} {logs:?}");
        let (_, log) = &logs[0];
        for (parameter, words) in &cases {
            let words: Vec<&str> = words.iter().map(String::as_str).collect();
            assert!(
                log.contains(&printed(&words)),
                "{transport}: {parameter:?} must arrive as {words:?}: {log}"
            );
        }
        assert!(
            Path::new(&script_dest).join("args.sh").is_file(),
            "{transport}: the script went to its literal dest"
        );
        assert_eq!(
            std::fs::read(Path::new(&artifact_dest).join("argv.tar.gz")).expect("artifact"),
            artifact,
            "{transport}"
        );
        assert_eq!(
            std::fs::read_to_string(Path::new(&config_dest).join(target_name))
                .expect("config")
                .trim_end(),
            "listen=8080",
            "{transport}"
        );
    }
    // A parameter that cannot be split, or that holds a line break (a second command line to a
    // shell), is refused when bound, naming the field, by 5.6.2.5 and by 5.6.1.
    let newline = format!("c09 first\ntouch {fx}/newline");
    for unbalanced in [
        "ok 'not closed",
        "ok \"not closed",
        "a\\\"b\"c",
        newline.as_str(),
        "c09 first\rsecond",
    ] {
        let binding = json!([{"id": bench.script_file_id, "dest": script_dest, "host_IP": [],
            "parameter": unbalanced, "execute_type": "shell"}]);
        let script_binding = json!({"script_id": "", "scripts_data": binding});
        let (status, body) = bench.admin.post(&script_path, &script_binding).await;
        assert_eq!(status, 200);
        let info = assert_failure(&body, "invalid_field");
        assert!(info.contains("parameter"), "{unbalanced:?}: {info}");
        let (_, body) = bench
            .admin
            .post(
                &format!("/api/app/jobinstance/{instance}/cu1/0/relation/alldata"),
                &json!({"scripts": {"scripts_data": binding}}),
            )
            .await;
        let info = assert_failure(&body, "invalid_field");
        assert!(info.contains("parameter"), "{unbalanced:?}: {info}");
    }
    let (_, body) = bench
        .admin
        .get(&format!(
            "/api/app/jobinstance/{instance}/cu1/0/script/json"
        ))
        .await;
    assert_eq!(
        assert_success(&body).as_array().map(Vec::len),
        Some(cases.len()),
        "the refused bindings replaced nothing: {body}"
    );

    bench.stop().await;
}
