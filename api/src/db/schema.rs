//! The diesel schema shared by both backends. Kept by hand in step with
//! `migrations/{sqlite,postgres}`; a test compares it with both databases.

diesel::table! {
    users (id) {
        id -> Text,
        email -> Text,
        name -> Text,
        password_hash -> Nullable<Text>,
        instance_role -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    workspaces (id) {
        id -> Text,
        name -> Text,
        version -> BigInt,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        time_zone -> Text,
        approval_roles -> Text,
        approvals_required -> Integer,
        inbox_settings -> Text,
    }
}

diesel::table! {
    memberships (workspace_id, user_id) {
        workspace_id -> Text,
        user_id -> Text,
        role -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    invitations (id) {
        id -> Text,
        workspace_id -> Text,
        email -> Text,
        role -> Text,
        token_hash -> Text,
        invited_by -> Text,
        expires_at -> Timestamp,
        accepted_at -> Nullable<Timestamp>,
        accepted_by -> Nullable<Text>,
        revoked_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Text,
        user_id -> Text,
        family_id -> Text,
        token_hash -> Text,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> Text,
        workspace_id -> Text,
        created_by -> Text,
        name -> Text,
        token_hash -> Text,
        permissions -> Text,
        expires_at -> Nullable<Timestamp>,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    idempotency_keys (principal, idempotency_key) {
        principal -> Text,
        idempotency_key -> Text,
        request_hash -> Text,
        status_code -> Nullable<Integer>,
        response_body -> Nullable<Text>,
        response_headers -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    disabled_plugins (plugin_id) {
        plugin_id -> Text,
        disabled_by -> Nullable<Text>,
        disabled_at -> Timestamp,
    }
}

diesel::table! {
    channels (id) {
        id -> Text,
        workspace_id -> Text,
        plugin_id -> Text,
        name -> Text,
        config -> Text,
        status -> Text,
        status_reason -> Nullable<Text>,
        account_id -> Text,
        account_handle -> Text,
        account_name -> Nullable<Text>,
        account_followers -> Nullable<BigInt>,
        credentials -> Nullable<Text>,
        credentials_key_id -> Nullable<Text>,
        token_expires_at -> Nullable<Timestamp>,
        posting_slots -> Text,
        checked_at -> Nullable<Timestamp>,
        version -> BigInt,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    channel_authorizations (state_hash) {
        state_hash -> Text,
        workspace_id -> Text,
        channel_id -> Text,
        plugin_id -> Text,
        name -> Text,
        config -> Text,
        redirect_uri -> Text,
        pkce_verifier -> Text,
        created_by -> Text,
        expires_at -> Timestamp,
        created_at -> Timestamp,
    }
}

diesel::table! {
    posts (id) {
        id -> Text,
        workspace_id -> Text,
        author_id -> Text,
        body -> Text,
        tags -> Text,
        media_ids -> Text,
        campaign_id -> Nullable<Text>,
        event_id -> Nullable<Text>,
        utm -> Nullable<Text>,
        status -> Text,
        scheduled_at -> Nullable<Timestamp>,
        published_at -> Nullable<Timestamp>,
        review_round -> Integer,
        approvals_required -> Integer,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    post_variants (post_id, channel_id) {
        post_id -> Text,
        channel_id -> Text,
        workspace_id -> Text,
        position -> Integer,
        text -> Nullable<Text>,
        media_ids -> Nullable<Text>,
        options -> Text,
        follow_ups -> Text,
        utm -> Nullable<Text>,
    }
}

diesel::table! {
    post_transitions (id) {
        id -> Text,
        post_id -> Text,
        workspace_id -> Text,
        action -> Text,
        from_status -> Text,
        to_status -> Text,
        actor_id -> Nullable<Text>,
        reason -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    post_approvals (post_id, review_round, user_id) {
        post_id -> Text,
        review_round -> Integer,
        user_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    post_revisions (id) {
        id -> Text,
        post_id -> Text,
        workspace_id -> Text,
        version -> BigInt,
        content -> Text,
        author_id -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    post_comments (id) {
        id -> Text,
        post_id -> Text,
        workspace_id -> Text,
        author_id -> Text,
        body -> Text,
        mentions -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    campaigns (id) {
        id -> Text,
        workspace_id -> Text,
        name -> Text,
        objective -> Nullable<Text>,
        starts_on -> Date,
        ends_on -> Date,
        budget_amount_minor -> Nullable<BigInt>,
        budget_currency -> Nullable<Text>,
        utm_source -> Nullable<Text>,
        utm_medium -> Nullable<Text>,
        utm_campaign -> Text,
        utm_term -> Nullable<Text>,
        utm_content -> Nullable<Text>,
        archived_at -> Nullable<Timestamp>,
        version -> BigInt,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    events (id) {
        id -> Text,
        workspace_id -> Text,
        campaign_id -> Nullable<Text>,
        title -> Text,
        description -> Nullable<Text>,
        starts_at -> Timestamp,
        ends_at -> Timestamp,
        time_zone -> Text,
        online_url -> Nullable<Text>,
        place -> Nullable<Text>,
        capacity -> Nullable<Integer>,
        waitlist -> Integer,
        version -> BigInt,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    event_registrations (id) {
        id -> Text,
        workspace_id -> Text,
        event_id -> Text,
        name -> Text,
        email -> Text,
        note -> Nullable<Text>,
        status -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    media (id) {
        id -> Text,
        workspace_id -> Text,
        sha256 -> Text,
        mime_type -> Text,
        size_bytes -> BigInt,
        width -> Nullable<Integer>,
        height -> Nullable<Integer>,
        original_filename -> Nullable<Text>,
        alt_text -> Nullable<Text>,
        version -> BigInt,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    plugin_kv (scope, key) {
        scope -> Text,
        key -> Text,
        value -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    jobs (id) {
        id -> Text,
        workspace_id -> Nullable<Text>,
        kind -> Text,
        payload -> Text,
        unique_key -> Nullable<Text>,
        status -> Text,
        attempts -> Integer,
        max_attempts -> Integer,
        run_at -> Timestamp,
        lease_owner -> Nullable<Text>,
        lease_expires_at -> Nullable<Timestamp>,
        fence -> BigInt,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    publish_targets (id) {
        id -> Text,
        workspace_id -> Text,
        post_id -> Text,
        channel_id -> Text,
        status -> Text,
        idempotency_key -> Text,
        remote_id -> Nullable<Text>,
        remote_url -> Nullable<Text>,
        follow_up_ids -> Text,
        error -> Nullable<Text>,
        attempts -> Integer,
        published_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        follow_up_sending -> Nullable<Integer>,
    }
}

diesel::table! {
    webhook_endpoints (id) {
        id -> Text,
        workspace_id -> Text,
        url -> Text,
        description -> Nullable<Text>,
        version -> BigInt,
        event_types -> Text,
        secret -> Text,
        previous_secret -> Nullable<Text>,
        previous_secret_expires_at -> Nullable<Timestamp>,
        disabled_at -> Nullable<Timestamp>,
        disabled_reason -> Nullable<Text>,
        failing_since -> Nullable<Timestamp>,
        consecutive_failures -> Integer,
        last_success_at -> Nullable<Timestamp>,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Text,
        endpoint_id -> Text,
        workspace_id -> Text,
        event_id -> Text,
        event_type -> Text,
        payload -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Nullable<Timestamp>,
        last_status_code -> Nullable<Integer>,
        last_error -> Nullable<Text>,
        replay_of -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    webhook_attempts (id) {
        id -> Text,
        delivery_id -> Text,
        attempt -> Integer,
        started_at -> Timestamp,
        status_code -> Nullable<Integer>,
        latency_ms -> BigInt,
        response_excerpt -> Nullable<Text>,
        error -> Nullable<Text>,
    }
}

diesel::joinable!(memberships -> workspaces (workspace_id));
diesel::joinable!(memberships -> users (user_id));
diesel::joinable!(invitations -> workspaces (workspace_id));
diesel::joinable!(api_tokens -> workspaces (workspace_id));
diesel::joinable!(refresh_tokens -> users (user_id));
diesel::joinable!(channels -> workspaces (workspace_id));
diesel::table! {
    activity_events (seq) {
        seq -> BigInt,
        id -> Text,
        workspace_id -> Text,
        event_type -> Text,
        subject_id -> Nullable<Text>,
        data -> Text,
        occurred_at -> Timestamp,
    }
}

diesel::joinable!(activity_events -> workspaces (workspace_id));
diesel::joinable!(posts -> workspaces (workspace_id));
diesel::joinable!(post_variants -> posts (post_id));
diesel::joinable!(post_variants -> channels (channel_id));
diesel::table! {
    contacts (id) {
        id -> Text,
        workspace_id -> Text,
        display_name -> Text,
        notes -> Nullable<Text>,
        tags -> Text,
        lists -> Text,
        advocate -> Bool,
        followers -> Nullable<BigInt>,
        advocacy_score -> Double,
        interactions -> BigInt,
        first_seen_at -> Timestamp,
        last_seen_at -> Timestamp,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    contact_identities (id) {
        id -> Text,
        workspace_id -> Text,
        contact_id -> Text,
        platform -> Text,
        remote_id -> Text,
        handle -> Text,
        display_name -> Nullable<Text>,
        followers -> Nullable<BigInt>,
        first_seen_at -> Timestamp,
        last_seen_at -> Timestamp,
    }
}

diesel::table! {
    inbox_items (id) {
        id -> Text,
        workspace_id -> Text,
        channel_id -> Text,
        platform -> Text,
        kind -> Text,
        remote_id -> Text,
        thread_remote_id -> Text,
        parent_remote_id -> Nullable<Text>,
        post_remote_id -> Nullable<Text>,
        post_id -> Nullable<Text>,
        listening_query_id -> Nullable<Text>,
        contact_id -> Nullable<Text>,
        author_remote_id -> Text,
        author_handle -> Text,
        author_name -> Nullable<Text>,
        author_followers -> Nullable<BigInt>,
        body -> Text,
        url -> Nullable<Text>,
        lang -> Nullable<Text>,
        sentiment_score -> Nullable<Double>,
        sentiment_label -> Nullable<Text>,
        status -> Text,
        priority -> Text,
        assignee_id -> Nullable<Text>,
        tags -> Text,
        source -> Text,
        remote_created_at -> Timestamp,
        received_at -> Timestamp,
        first_response_due_at -> Nullable<Timestamp>,
        first_response_at -> Nullable<Timestamp>,
        resolution_due_at -> Nullable<Timestamp>,
        resolved_at -> Nullable<Timestamp>,
        version -> BigInt,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    inbox_replies (id) {
        id -> Text,
        workspace_id -> Text,
        item_id -> Text,
        body -> Text,
        saved_reply_id -> Nullable<Text>,
        status -> Text,
        idempotency_key -> Text,
        remote_id -> Nullable<Text>,
        remote_url -> Nullable<Text>,
        error -> Nullable<Text>,
        attempts -> Integer,
        created_by -> Text,
        approved_by -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    moderation_log (id) {
        id -> Text,
        workspace_id -> Text,
        item_id -> Nullable<Text>,
        contact_id -> Nullable<Text>,
        actor_kind -> Text,
        actor_id -> Nullable<Text>,
        rule_version -> Nullable<Integer>,
        action -> Text,
        detail -> Text,
        reason -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    inbox_rules (id) {
        id -> Text,
        workspace_id -> Text,
        name -> Text,
        position -> Integer,
        enabled -> Bool,
        version -> Integer,
        definition -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    inbox_rule_versions (rule_id, version) {
        rule_id -> Text,
        version -> Integer,
        name -> Text,
        enabled -> Bool,
        definition -> Text,
        changed_by -> Text,
        changed_at -> Timestamp,
    }
}

diesel::table! {
    saved_replies (id) {
        id -> Text,
        workspace_id -> Text,
        name -> Text,
        body -> Text,
        version -> BigInt,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    listening_queries (id) {
        id -> Text,
        workspace_id -> Text,
        channel_id -> Text,
        name -> Text,
        query -> Text,
        subject -> Text,
        enabled -> Bool,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    inbox_cursors (channel_id, stream) {
        channel_id -> Text,
        stream -> Text,
        cursor -> Nullable<Text>,
        polled_at -> Timestamp,
        error -> Nullable<Text>,
    }
}

diesel::table! {
    webhook_receipts (channel_id, digest) {
        channel_id -> Text,
        digest -> Text,
        received_at -> Timestamp,
    }
}

diesel::table! {
    assignment_rotations (workspace_id, pool) {
        workspace_id -> Text,
        pool -> Text,
        position -> BigInt,
    }
}

diesel::table! {
    inbox_alerts (id) {
        id -> Text,
        workspace_id -> Text,
        hour_start -> Timestamp,
        observed -> BigInt,
        expected -> Double,
        z_score -> Double,
        item_ids -> Text,
        created_at -> Timestamp,
        acknowledged_at -> Nullable<Timestamp>,
        acknowledged_by -> Nullable<Text>,
    }
}

diesel::table! {
    metric_series (id) {
        id -> Text,
        workspace_id -> Text,
        channel_id -> Text,
        subject -> Text,
        post_id -> Nullable<Text>,
        metric -> Text,
        last_value -> Double,
        last_at -> Timestamp,
        created_at -> Timestamp,
    }
}

diesel::table! {
    metric_samples (series_id, measured_at) {
        series_id -> Text,
        measured_at -> Timestamp,
        value -> Double,
        gain -> Double,
    }
}

diesel::table! {
    metric_group_rollups (workspace_id, dimension, period, metric, bucket, group_key, channel_id) {
        workspace_id -> Text,
        dimension -> Text,
        group_key -> Text,
        channel_id -> Text,
        metric -> Text,
        period -> Text,
        bucket -> Timestamp,
        gain -> Double,
        samples -> Integer,
    }
}

diesel::table! {
    metric_rollups (series_id, period, bucket) {
        series_id -> Text,
        period -> Text,
        bucket -> Timestamp,
        workspace_id -> Text,
        channel_id -> Text,
        post_id -> Nullable<Text>,
        metric -> Text,
        gain -> Double,
        last_value -> Double,
        samples -> Integer,
    }
}

diesel::table! {
    metric_collections (channel_id) {
        channel_id -> Text,
        workspace_id -> Text,
        attempted_at -> Timestamp,
        succeeded_at -> Nullable<Timestamp>,
        account_collected_at -> Nullable<Timestamp>,
        error -> Nullable<Text>,
        failures -> Integer,
    }
}

diesel::table! {
    objectives (id) {
        id -> Text,
        workspace_id -> Text,
        name -> Text,
        kpi -> Text,
        target -> Double,
        direction -> Text,
        starts_on -> Date,
        ends_on -> Date,
        scope -> Text,
        scope_id -> Nullable<Text>,
        created_by -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    post_metric_checks (target_id) {
        target_id -> Text,
        checked_at -> Timestamp,
    }
}

diesel::joinable!(post_transitions -> posts (post_id));
diesel::joinable!(post_comments -> posts (post_id));
diesel::joinable!(campaigns -> workspaces (workspace_id));
diesel::joinable!(media -> workspaces (workspace_id));
diesel::joinable!(jobs -> workspaces (workspace_id));
diesel::joinable!(events -> campaigns (campaign_id));
diesel::joinable!(event_registrations -> events (event_id));
diesel::joinable!(webhook_endpoints -> workspaces (workspace_id));
diesel::joinable!(webhook_deliveries -> webhook_endpoints (endpoint_id));
diesel::joinable!(webhook_attempts -> webhook_deliveries (delivery_id));
diesel::joinable!(metric_rollups -> metric_series (series_id));
diesel::joinable!(metric_series -> channels (channel_id));
diesel::joinable!(post_metric_checks -> publish_targets (target_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    workspaces,
    memberships,
    invitations,
    refresh_tokens,
    api_tokens,
    idempotency_keys,
    disabled_plugins,
    channels,
    channel_authorizations,
    posts,
    post_variants,
    post_transitions,
    post_approvals,
    post_revisions,
    post_comments,
    campaigns,
    events,
    event_registrations,
    media,
    plugin_kv,
    jobs,
    publish_targets,
    activity_events,
    webhook_endpoints,
    webhook_deliveries,
    webhook_attempts,
    contacts,
    contact_identities,
    inbox_items,
    inbox_replies,
    moderation_log,
    inbox_rules,
    inbox_rule_versions,
    saved_replies,
    listening_queries,
    inbox_cursors,
    webhook_receipts,
    assignment_rotations,
    inbox_alerts,
    metric_series,
    metric_samples,
    metric_rollups,
    metric_group_rollups,
    metric_collections,
    post_metric_checks,
    objectives,
);
