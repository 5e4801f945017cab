-- Tenant isolation inside PostgreSQL itself: every tenant table admits only the rows of
-- the user named by the transaction setting golden_path.user_id, or every row when
-- golden_path.system is 'on' (signup, login by email, recovery, purge). A query that
-- forgot its user_id filter still sees one user's rows; one that set nothing sees none.
--
-- Policies bind every role except superusers and roles with BYPASSRLS; FORCE makes them
-- bind the tables' owner too. The server runs its queries as golden_path_app (SET ROLE,
-- transaction-local), a role without either privilege, created here when we may.

DO $$
BEGIN
    CREATE ROLE golden_path_app NOLOGIN;
EXCEPTION
    -- Another database of the cluster created it first (roles are cluster-wide).
    WHEN duplicate_object OR unique_violation THEN NULL;
    WHEN insufficient_privilege THEN
        RAISE NOTICE 'cannot create role golden_path_app; policies still bind the owner';
END
$$;

DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'golden_path_app') THEN
        GRANT USAGE ON SCHEMA public TO golden_path_app;
        GRANT SELECT, INSERT, UPDATE, DELETE
            ON users, threads, runs, messages, events, usage_ledger TO golden_path_app;
        GRANT SELECT ON schema_migrations TO golden_path_app;
    END IF;
END
$$;

CREATE FUNCTION golden_path_may_see(owner text) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT coalesce(current_setting('golden_path.system', true), '') = 'on'
        OR owner = nullif(current_setting('golden_path.user_id', true), '')
$$;

ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON users USING (golden_path_may_see(id)) WITH CHECK (golden_path_may_see(id));

DO $$
DECLARE
    tenant_table text;
BEGIN
    FOREACH tenant_table IN ARRAY ARRAY['threads', 'runs', 'messages', 'events', 'usage_ledger']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', tenant_table);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', tenant_table);
        EXECUTE format(
            'CREATE POLICY tenant ON %I USING (golden_path_may_see(user_id)) '
            'WITH CHECK (golden_path_may_see(user_id))',
            tenant_table
        );
    END LOOP;
END
$$;
