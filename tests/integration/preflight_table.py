"""One table of the roles' preflight checks: for each role, settings that pass, and bad settings, each with the
message that must say how to fix it (tests/integration/test_preflight.py)."""

# --- cvmfs -----------------------------------------------------------------------------------------------------------
CVMFS_GOOD = {"cvmfs_package_source": "none"}

CVMFS_CASES = {
    "proxy list not grouped": ({"cvmfs_http_proxies": ["http://squid:3128"]}, "list of groups"),
    "proxy without a port": ({"cvmfs_http_proxies": [["http://squid"]]}, "list of groups"),
    "quota not a number": ({"cvmfs_quota_limit_mb": "4G"}, "cvmfs_quota_limit_mb"),
    "quota too small": ({"cvmfs_quota_limit_mb": 100}, "at least 1000"),
    "server URL without @fqrn@": ({"cvmfs_server_urls": ["http://s1.example.org/cvmfs/data"]},
                                  "Offending: http://s1.example.org/cvmfs/data"),
    "static repository without its key": (
        {"cvmfs_config_mode": "static", "cvmfs_repositories": ["data.galaxyproject.org", "main.galaxyproject.org"]},
        "cvmfs_keys needs main.galaxyproject.org.pub"),
    "key that is not PEM": ({"cvmfs_keys": {"cvmfs-config.galaxyproject.org.pub": "AAAA"}}, "must be PEM text"),
    "unknown mount mode": ({"cvmfs_mount_mode": "nfs"}, "cvmfs_mount_mode"),
    "proxy without client networks": ({"cvmfs_proxy_enabled": True}, "cvmfs_proxy_allowed_networks"),
    "proxy network not CIDR": ({"cvmfs_proxy_enabled": True, "cvmfs_proxy_allowed_networks": ["10.1.0.0"]},
                               "CIDR form"),
    "extra setting not CVMFS_": ({"cvmfs_client_extra": {"NFILES": 1}}, "CVMFS_* names"),
    # Configuration injection: default.local is sourced by a shell, squid.conf takes space-separated lists.
    "repository that runs a command": ({"cvmfs_repositories": ['data.galaxyproject.org";touch /pwned;"']},
                                       "cvmfs_repositories holds a line break or a character a shell would interpret"),
    "cache base with a command substitution": ({"cvmfs_cache_base": "/var/lib/$(id)"}, "cvmfs_cache_base holds"),
    "extra setting with a new line": ({"cvmfs_client_extra": {"CVMFS_NFILES": "1\nCVMFS_HTTP_PROXY=DIRECT"}},
                                      "cvmfs_client_extra holds"),
    "upstream server with a new directive": (
        {"cvmfs_proxy_enabled": True, "cvmfs_proxy_allowed_networks": ["10.1.0.0/16"],
         "cvmfs_proxy_upstream_servers": ["s1.example.org\nhttp_access allow all"]},
        "cvmfs_proxy_upstream_servers must be one word"),
}


# --- htcondor --------------------------------------------------------------------------------------------------------
HTCONDOR_GOOD = {
    "htcondor_node_roles": ["central_manager", "submit", "execute"],
    "htcondor_central_manager": "target",
    "htcondor_uid_domain": "pool.example.org",
    # The preflight runs on the test machine: Debian 12 has no HTCondor package of its own.
    "htcondor_install_source": "htcondor_repo",
}

HTCONDOR_CASES = {
    "no roles": ({"htcondor_node_roles": []}, "Set it to a list of one or more of"),
    "unknown role": ({"htcondor_node_roles": ["scheduler"]}, "value of htcondor_node_roles must be one or more of"),
    "no central manager": ({"htcondor_central_manager": ""}, "Set it to the inventory hostname of the pool's central manager"),
    "central manager not in inventory": ({"htcondor_central_manager": "nowhere"}, "Set it to the inventory hostname"),
    "no uid domain": ({"htcondor_uid_domain": ""}, "Set htcondor_uid_domain"),
    "zero interval": ({"htcondor_negotiator_interval": 0}, "must be positive"),
    "zero schedd pass": ({"htcondor_schedd_min_interval": 0}, "htcondor_schedd_min_interval are seconds and must be positive"),
    "placeholder key": ({"htcondor_pool_signing_key": "changeme"}, "htcondor_pool_signing_key is a placeholder"),
    "example vault's key": ({"htcondor_pool_signing_key": "CHANGE-ME: 32 random characters, from openssl rand"},
                            "htcondor_pool_signing_key is a placeholder"),
    "short key": ({"htcondor_pool_signing_key": "s3cr3t-but-short"}, "htcondor_pool_signing_key is shorter than 32"),
    "zero token lifetime": ({"htcondor_token_lifetime_days": 0}, "htcondor_token_lifetime_days must be a positive"),
    "revoked central manager": ({"htcondor_revoked_hosts": ["target"]}, "cannot hold the central manager target"),
    # A revoked host names a file in the central manager's store of issued tokens.
    "revoked host that is a path": ({"htcondor_revoked_hosts": ["../../passwords.d/POOL"]},
                                    "htcondor_revoked_hosts must be a host or domain name"),
    "bad extra knob": ({"htcondor_config_extra": {"BAD KNOB": "1"}}, "must map HTCondor configuration names"),
    "bad install source": ({"htcondor_install_source": "tarball"}, "value of htcondor_install_source must be one of"),
    # Configuration injection: pool.conf takes these unquoted.
    "wildcard UID_DOMAIN": ({"htcondor_uid_domain": "*"}, "htcondor_uid_domain must be a host or domain name"),
    "UID_DOMAIN with a new setting": ({"htcondor_uid_domain": "pool.example.org\nALLOW_ADMINISTRATOR = *"},
                                      "htcondor_uid_domain must be a host or domain name"),
    "UID_DOMAIN with a trailing newline": ({"htcondor_uid_domain": "pool.example.org\n"}, "htcondor_uid_domain must be"),
    "pool name with a new setting": ({"htcondor_pool_name": "pool\nALLOW_WRITE = *"}, "htcondor_pool_name holds a line break"),
    "extra value with a new setting": ({"htcondor_config_extra": {"MAX_JOBS_RUNNING": "10\nALLOW_READ = *"}},
                                       "htcondor_config_extra holds a line break"),
}


# --- pulsar ----------------------------------------------------------------------------------------------------------
PULSAR_URL = "pyamqp://site_a:VERYSECRET-amqp-pw@mq.example.org:5671//pulsar/site_a?ssl=1"
PULSAR_GOOD = {"pulsar_staging_root": "/tmp", "pulsar_execute_nodes": [],
               "pulsar_galaxy_servers": [{"name": "usegalaxy_eu", "message_queue_url": PULSAR_URL}]}

PULSAR_CASES = {
    "no Galaxy server": ({"pulsar_galaxy_servers": []}, "Set pulsar_galaxy_servers"),
    "plain AMQP": ({"pulsar_galaxy_servers": [{"name": "eu", "message_queue_url": PULSAR_URL.replace("?ssl=1", "")}]},
                   "is not TLS"),
    "URL with the example vault's password": (
        {"pulsar_galaxy_servers": [{"name": "eu", "message_queue_url": PULSAR_URL.replace("VERYSECRET-amqp-pw", "CHANGE-ME")}]},
        "the password is a placeholder"),
    "URL without credentials": ({"pulsar_galaxy_servers": [{"name": "eu", "message_queue_url": "pyamqp://mq:5671//x?ssl=1"}]},
                                "names no user and password"),
    "bad server name": ({"pulsar_galaxy_servers": [{"name": "use galaxy", "message_queue_url": PULSAR_URL}]},
                        "Galaxy server use galaxy"),
    "duplicate servers": ({"pulsar_galaxy_servers": [{"name": "eu", "message_queue_url": PULSAR_URL}] * 2}, "unique name"),
    "staging outside the shared root": (
        {"pulsar_galaxy_servers": [{"name": "eu", "message_queue_url": PULSAR_URL, "staging_directory": "/var/tmp/eu"}]},
        "must lie under pulsar_staging_root"),
    "shared storage not mounted": ({"pulsar_staging_root": "/nonexistent/pulsar"},
                                   "/nonexistent/pulsar is missing on target"),
    "bad submit command": ({"pulsar_managers": {"production": {"submit": {"request cpus": 2}}}}, "Manager production"),
    "incomplete retry settings": ({"pulsar_preprocess_retry": {"max_retries": 3}}, "need exactly max_retries"),
    "zero polling interval": ({"pulsar_min_polling_interval": 0}, "pulsar_min_polling_interval > 0"),
    "not a CA certificate": ({"pulsar_amqp_ca_certificate": "ca.crt"}, "must be PEM text"),
    "uid not a number": ({"pulsar_uid": "pulsar"}, "pulsar_uid"),
    # Configuration injection: these go into systemd units and environment files.
    "venv with a new unit setting": ({"pulsar_venv_dir": "/opt/pulsar/venv\nExecStartPre=/bin/touch /pwned"},
                                     "pulsar_venv_dir must be an absolute path"),
    "state dir with a systemd specifier": ({"pulsar_state_dir": "/var/lib/%u"}, "pulsar_state_dir must be an absolute path"),
    "memory limit with a new setting": ({"pulsar_service_memory_max": "4G\nUser=root"}, "pulsar_service_memory_max must be one word"),
}


# --- rabbitmq --------------------------------------------------------------------------------------------------------
RABBITMQ_GOOD = {"rabbitmq_tls_certificate": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
                 "rabbitmq_tls_private_key": "-----BEGIN PRIVATE KEY-----\nKEYTEXT\n-----END PRIVATE KEY-----\n",
                 "rabbitmq_tls_ca_certificate": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
                 "rabbitmq_monitoring_password": "monitoring-pw-long-enough"}
RABBITMQ_GOOD_SITE = {"name": "site_a", "password": "site-a-VERYSECRET-pw"}

RABBITMQ_CASES = {
    "no TLS material": ({"rabbitmq_tls_certificate": ""}, "must hold PEM text"),
    "placeholder endpoint password": ({"rabbitmq_pulsar_endpoints": [RABBITMQ_GOOD_SITE, {"name": "site_b", "password": "changeme"}]},
                                      "Offending item: site_b"),
    "bad endpoint name": ({"rabbitmq_pulsar_endpoints": [{"name": "site b", "password": "long-enough-password"}]},
                          "Offending item: site b"),
    "duplicate endpoints": ({"rabbitmq_pulsar_endpoints": [RABBITMQ_GOOD_SITE, RABBITMQ_GOOD_SITE]}, "share a name"),
    "two endpoints on one vhost": (
        {"rabbitmq_pulsar_endpoints": [RABBITMQ_GOOD_SITE, {"name": "site_b", "password": "site-b-password-ok", "vhost": "/pulsar/site_a"}]},
        "share a name or a vhost (/pulsar/site_a)"),
    "weak monitoring password": ({"rabbitmq_monitoring_password": "short"}, "rabbitmq_monitoring_password is shorter than 12"),
    "example vault's endpoint password": (
        {"rabbitmq_pulsar_endpoints": [{"name": "site_b", "password": "CHANGE-ME: the endpoint's AMQP password on the broker"}]},
        "the password of site_b is a placeholder"),
    "placeholder monitoring password": ({"rabbitmq_monitoring_password": "a-Placeholder-for-the-monitoring-pw"},
                                        "rabbitmq_monitoring_password is a placeholder"),
    # Configuration injection: rabbitmq.conf is one 'key = value' per line.
    "extra value with a new setting": ({"rabbitmq_config_extra": {"channel_max": "128\nloopback_users = none"}},
                                       "rabbitmq_config_extra must be one word"),
    "disk limit with a new setting": ({"rabbitmq_disk_free_limit": "2GB\nlisteners.tcp.default = 5672"},
                                      "rabbitmq_disk_free_limit must be one word"),
}


# --- usegalaxy_replica -----------------------------------------------------------------------------------------------
USEGALAXY_REPLICA_CERT = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
USEGALAXY_REPLICA_URL = "pyamqp://site_a:VERYSECRET-amqp-pw@mq.example.org:5671//pulsar/site_a?ssl=1"
USEGALAXY_REPLICA_GOOD = {
    "usegalaxy_replica_tls_certificate": USEGALAXY_REPLICA_CERT,
    "usegalaxy_replica_tls_private_key": "-----BEGIN PRIVATE KEY-----\nKEYTEXT\n-----END PRIVATE KEY-----\n",
    "usegalaxy_replica_db_password": "db-password-long-enough",
    "usegalaxy_replica_id_secret": "id-secret-long-enough-32-characters",
    "usegalaxy_replica_bootstrap_api_key": "bootstrap-key-long-enough-32-characters",
    "usegalaxy_replica_admin_password": "admin-password-long-enough",
    "usegalaxy_replica_pulsar_endpoints": [{"name": "site_a", "amqp_url": USEGALAXY_REPLICA_URL, "jobs_directory": "/srv/pulsar/staging/eu"}],
}

USEGALAXY_REPLICA_CASES = {
    "placeholder database password": ({"usegalaxy_replica_db_password": "changeme"}, "usegalaxy_replica_db_password is a placeholder"),
    "short id_secret": ({"usegalaxy_replica_id_secret": "short"}, "usegalaxy_replica_id_secret is shorter than 32"),
    "id_secret of 31 characters": ({"usegalaxy_replica_id_secret": "x" * 31}, "usegalaxy_replica_id_secret is shorter than 32"),
    "example vault's API key": ({"usegalaxy_replica_bootstrap_api_key": "CHANGE-ME: 32 random characters"},
                                "usegalaxy_replica_bootstrap_api_key is a placeholder"),
    "example vault's admin password": ({"usegalaxy_replica_admin_password": "CHANGE-ME"},
                                       "usegalaxy_replica_admin_password is a placeholder"),
    "endpoint URL with a placeholder password": (
        {"usegalaxy_replica_pulsar_endpoints": [{"name": "eu", "amqp_url": USEGALAXY_REPLICA_URL.replace("VERYSECRET-amqp-pw", "changeme-later-please"),
                                                 "jobs_directory": "/x"}]},
        "the password is a placeholder"),
    "no TLS certificate": ({"usegalaxy_replica_tls_certificate": ""}, "must hold PEM text"),
    "bad admin e-mail": ({"usegalaxy_replica_admin_email": "admin"}, "e-mail address"),
    "endpoint over plain AMQP": (
        {"usegalaxy_replica_pulsar_endpoints": [{"name": "eu", "amqp_url": USEGALAXY_REPLICA_URL.replace("?ssl=1", ""), "jobs_directory": "/x"}]},
        "Pulsar endpoint eu"),
    "endpoint without jobs_directory": (
        {"usegalaxy_replica_pulsar_endpoints": [{"name": "eu", "amqp_url": USEGALAXY_REPLICA_URL, "jobs_directory": "relative"}]},
        "Pulsar endpoint eu"),
    "tool outside the bundled tools": ({"usegalaxy_replica_bundled_tools": ["../../../etc/evil.xml"]}, "paths below"),
    "repository without an owner": ({"usegalaxy_replica_tool_shed_repositories": [{"name": "pn_tac"}]}, "need a name and an owner"),
    "Tool Shed without a URL scheme": ({"usegalaxy_replica_tool_sheds": [{"name": "lab", "url": "toolshed.lab"}]}, "http(s) url"),
    "no job handler": ({"usegalaxy_replica_job_handlers": 0}, "without a job handler no job runs"),
    "status page user with a placeholder password": (
        {"usegalaxy_replica_status_users": [{"name": "ops", "password": "CHANGE-ME"}]},
        "the status page password of ops is a placeholder"),
    "status page user name that breaks the password file": (
        {"usegalaxy_replica_status_users": [{"name": "ops:x", "password": "status-password-long-enough"}]},
        "usegalaxy_replica_status_users item ops:x"),
    "Celery broker not a URL": ({"usegalaxy_replica_celery_broker_url": "mq.example.org"}, "or a kombu URL"),
    # Configuration injection: these go into systemd units and nginx's site.
    "server name with a trailing newline": ({"usegalaxy_replica_server_name": "galaxy.example.org\n"},
                                            "usegalaxy_replica_server_name must be a host or domain name"),
    "server name with a new directive": ({"usegalaxy_replica_server_name": "galaxy.example.org; return 200"},
                                         "usegalaxy_replica_server_name must be"),
    "data dir with a new unit setting": ({"usegalaxy_replica_data_dir": "/srv/galaxy\nUser=root"},
                                         "usegalaxy_replica_data_dir must be an absolute path"),
}


# --- tes -----------------------------------------------------------------------------------------------------------
TES_URL = "pyamqp://site_a.tes:VERYSECRET-amqp-pw@mq.example.org:5671//pulsar/site_a/tes?ssl=1"
TES_GOOD = {
    "tes_tls_certificate": USEGALAXY_REPLICA_CERT,
    "tes_tls_private_key": "-----BEGIN PRIVATE KEY-----\nKEYTEXT\n-----END PRIVATE KEY-----\n",
    "tes_endpoints": [{"name": "site_a", "amqp_url": TES_URL, "jobs_directory": "/srv/pulsar/staging/tes"}],
    "tes_users": [{"name": "alice", "token": "alice-token-long-enough-0123"}],
}

TES_CASES = {
    "no endpoint": ({"tes_endpoints": []}, "The TES service needs: endpoints"),
    "endpoint without a jobs directory": ({"tes_endpoints": [{"name": "site_a", "amqp_url": TES_URL}]}, "jobs_directory"),
    "no user and no anonymous access": ({"tes_users": []}, "unless tes_anonymous is true"),
    "service-info storage by hand": ({"tes_service_info": {"storage": ["s3://bucket"]}}, "tes_service_info.storage"),
    "endpoint URL without TLS": (
        {"tes_endpoints": [{"name": "site_a", "jobs_directory": "/srv/x",
                            "amqp_url": "pyamqp://u:VERYSECRET-amqp-pw@mq.example.org:5672//pulsar/site_a/tes"}]},
        "TLS"),
    "short token": ({"tes_users": [{"name": "alice", "token": "short"}]}, "tes_users[alice].token is shorter than 12"),
    "placeholder password": ({"tes_users": [{"name": "bob", "password": "CHANGE-ME please"}]},
                             "tes_users[bob].password is a placeholder"),
    "public URL without https": ({"tes_public_url": "http://tes.example.org"}, "https:// tes_public_url"),
    # A user's name is their tasks' owner and their storage area: none may share them.
    "a user called anonymous": ({"tes_users": [{"name": "anonymous", "token": "anon-token-long-enough-0123"}]},
                                "tes_users: anonymous is the name of callers without credentials"),
    "two users with one name": ({"tes_users": [{"name": "eve", "token": "eve-token-long-enough-0123"},
                                               {"name": "eve", "password": "eve-password-long-enough"}]},
                                "tes_users: eve appears twice"),
    "a user name that is a path": ({"tes_users": [{"name": "../eve", "token": "eve-token-long-enough-0123"}]},
                                   "tes_users: '../eve': use letters, digits"),
    "unknown container runtime": ({"tes_container_runtime": "lxc"}, "tes_container_runtime"),
    "store URL that is not PostgreSQL's": ({"tes_store_url": "mysql://tes:STORESECRET-pw@db.example.org/tes"},
                                           "tes_store_url: expected postgresql://"),
    # Configuration injection: these go into the unit and nginx's site.
    "server name with a new directive": ({"tes_server_name": "tes.example.org; return 200"}, "tes_server_name must be"),
    "state dir with a new unit setting": ({"tes_state_dir": "/var/lib/tes\nUser=root"}, "tes_state_dir must be an absolute path"),
}


ROLES = {
    "cvmfs": (CVMFS_GOOD, CVMFS_CASES),
    "htcondor": (HTCONDOR_GOOD, HTCONDOR_CASES),
    "pulsar": (PULSAR_GOOD, PULSAR_CASES),
    "rabbitmq": (RABBITMQ_GOOD, RABBITMQ_CASES),
    "usegalaxy_replica": (USEGALAXY_REPLICA_GOOD, USEGALAXY_REPLICA_CASES),
    "tes": (TES_GOOD, TES_CASES),
}
