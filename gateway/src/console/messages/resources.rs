//! The clusters and hosts pages' messages (`resources.rs`).

use super::Catalogue;

/// Key, English, 简体中文.
pub const MESSAGES: Catalogue = &[
    ("nav_resources", "Resources", "资源"),
    ("clusters_title", "Clusters", "集群"),
    ("hosts_title", "Hosts", "主机"),
    ("cluster_hosts_title", "Hosts of cluster", "集群主机"),
    ("name_contains", "Name contains", "名称包含"),
    ("cluster_name", "Cluster", "集群"),
    ("cluster_type", "Type", "类型"),
    ("source", "Source", "来源"),
    ("no_clusters", "No cluster here.", "没有集群。"),
    ("no_hosts", "No host here.", "没有主机。"),
    ("host_ip", "IP address", "IP 地址"),
    ("host_name", "Host name", "主机名"),
    ("ssh_login", "SSH login", "SSH 登录"),
    ("credential", "Credential", "凭据"),
    ("credential_password", "password stored", "已存密码"),
    ("credential_key", "key stored", "已存私钥"),
    ("credential_none", "none", "无"),
    ("host_key", "Host key", "主机密钥"),
    ("key_pinned", "pinned", "已固定"),
    ("key_unpinned", "not pinned yet", "尚未固定"),
    ("in_clusters", "Clusters", "所属集群"),
    ("ssh_check", "Check SSH", "检查 SSH"),
    ("ssh_checking", "checking…", "检查中…"),
    ("ssh_ok", "SSH login works", "SSH 登录成功"),
    ("ssh_failed", "SSH login failed", "SSH 登录失败"),
    ("page_previous", "Previous", "上一页"),
    ("page_next", "Next", "下一页"),
    ("total", "Total", "共"),
];
