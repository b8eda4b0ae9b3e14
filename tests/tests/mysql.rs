//! Integration tests on MySQL/MariaDB (`TENANCY_MYSQL_URL`).

tenancy_tests::leak_matrix!(MySql);
tenancy_tests::behaviour_tests!(MySql);
tenancy_tests::migration_tests!(MySql);
tenancy_tests::strict_tests!(MySql);
