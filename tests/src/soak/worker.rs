//! One soak task: random operations on random tenants, each checked
//! against what the task itself committed.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::{Arc, atomic::Ordering},
};

use futures_util::TryStreamExt;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel,
    ModelTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set, Statement, StreamTrait,
    TransactionTrait,
};
use tenancy::{TenantConnection, TenantTransaction};

use super::{OPS, Op, Shared};
use crate::{Kind, comment, plan, post, tag};

/// What an operation runs on: a tenant connection, or a tenant transaction
/// (pinned mode).
pub(super) trait Conn:
    ConnectionTrait + StreamTrait + TransactionTrait<Transaction = TenantTransaction> + Send + Sync
{
}

impl<T> Conn for T where
    T: ConnectionTrait
        + StreamTrait
        + TransactionTrait<Transaction = TenantTransaction>
        + Send
        + Sync
{
}

/// A post as its task last committed it.
#[derive(Debug, Clone)]
pub(super) struct PostState {
    pub(super) title: String,
    pub(super) status: post::Status,
    /// Comment id to body.
    pub(super) comments: BTreeMap<i32, String>,
}

/// The rows one task (or, merged, all tasks) committed in one tenant.
#[derive(Debug, Clone, Default)]
pub(super) struct TenantState {
    pub(super) posts: BTreeMap<i32, PostState>,
    pub(super) tags: BTreeMap<i32, String>,
}

/// xorshift64*: enough randomness for choosing, no dependency.
pub(super) struct Rng(u64);

impl Rng {
    pub(super) fn new(seed: u64) -> Self {
        Rng(seed | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Why an operation did not complete.
enum Failure {
    /// The database aborted it (deadlock, lock timeout): nothing changed.
    Aborted,
    /// Anything else: the task stops.
    Error(String),
}

impl From<DbErr> for Failure {
    fn from(e: DbErr) -> Self {
        let text = e.to_string();
        let transient = [
            "deadlock",
            "Deadlock",
            "40P01",
            "40001",
            "1213",
            "Lock wait timeout",
        ];
        if transient.iter().any(|t| text.contains(t)) {
            Failure::Aborted
        } else {
            Failure::Error(text)
        }
    }
}

type Step<T = ()> = Result<T, Failure>;

pub(super) struct Worker {
    pub(super) task: usize,
    pub(super) pinned: bool,
    pub(super) rng: Rng,
    pub(super) conns: Arc<Vec<TenantConnection>>,
    pub(super) state: Vec<TenantState>,
    pub(super) shared: Arc<Shared>,
    pub(super) plan_id: i32,
    pub(super) kind: Kind,
    pub(super) ops: BTreeMap<Op, u64>,
}

impl Worker {
    pub(super) async fn run(&mut self) {
        let total: u32 = OPS.iter().map(|(_, w)| w).sum();
        let mut seq = 0u32;
        while !self.shared.done() {
            let t = self.rng.below(self.conns.len());
            let mut pick = (self.rng.next() % u64::from(total)) as u32;
            let op = OPS
                .iter()
                .find(|(_, w)| {
                    if pick < *w {
                        true
                    } else {
                        pick -= w;
                        false
                    }
                })
                .map_or(Op::Insert, |(op, _)| *op);
            seq += 1;
            match self.op(op, t, seq).await {
                Ok(()) => *self.ops.entry(op).or_default() += 1,
                Err(Failure::Aborted) => {
                    self.shared.aborted.fetch_add(1, Ordering::Relaxed);
                }
                Err(Failure::Error(e)) => {
                    let tenant = self.conns[t].tenant().to_string();
                    self.shared
                        .error(format!("task {} {op:?} in {tenant}: {e}", self.task));
                    return;
                }
            }
        }
    }

    fn title(&self, t: usize, seq: u32) -> String {
        format!("{}:{}:{seq}", self.conns[t].tenant(), self.task)
    }

    fn own_prefix(&self, t: usize) -> String {
        format!("{}:{}:", self.conns[t].tenant(), self.task)
    }

    fn tenant_prefix(&self, t: usize) -> String {
        format!("{}:", self.conns[t].tenant())
    }

    fn violation(&self, t: usize, what: String) {
        let tenant = self.conns[t].tenant();
        self.shared
            .violation(format!("task {} in {tenant}: {what}", self.task));
    }

    /// Checks that every title belongs to tenant `t`.
    fn all_owned<'a>(&self, t: usize, op: &str, titles: impl IntoIterator<Item = &'a str>) {
        let prefix = self.tenant_prefix(t);
        for title in titles {
            if !title.starts_with(&prefix) {
                self.violation(t, format!("{op} returned foreign row {title:?}"));
            }
        }
    }

    /// One of the task's posts in tenant `t`, at random.
    fn pick(&mut self, t: usize) -> Option<(i32, PostState)> {
        let posts = &self.state[t].posts;
        if posts.is_empty() {
            return None;
        }
        let n = self.rng.below(posts.len());
        posts.iter().nth(n).map(|(id, p)| (*id, p.clone()))
    }

    async fn op(&mut self, op: Op, t: usize, seq: u32) -> Step {
        let conn = self.conns[t].clone();
        if !self.pinned {
            return self.dispatch(&conn, op, t, seq).await;
        }
        // Every operation in a transaction: its own nested ones are savepoints.
        let txn = conn.begin().await?;
        let result = self.dispatch(&txn, op, t, seq).await;
        match result {
            Ok(()) => Ok(txn.commit().await?),
            Err(e) => {
                let _ = txn.rollback().await;
                Err(e)
            }
        }
    }

    async fn dispatch<C: Conn>(&mut self, conn: &C, op: Op, t: usize, seq: u32) -> Step {
        match op {
            Op::Insert => self.insert(conn, t, seq).await,
            Op::FindById => self.find_by_id(conn, t, seq).await,
            Op::FilterOwn => self.filter_own(conn, t).await,
            Op::FilterTenant => self.filter_tenant(conn, t).await,
            Op::Update => self.update(conn, t, seq).await,
            Op::UpdateMany => self.update_many(conn, t, seq).await,
            Op::Delete => self.delete(conn, t, seq).await,
            Op::Commit => self.commit(conn, t, seq).await,
            Op::Rollback => self.rollback(conn, t, seq).await,
            Op::Stream => self.stream(conn, t).await,
            Op::Paginate => self.paginate(conn, t).await,
            Op::Related => self.related(conn, t).await,
            Op::Raw => self.raw(conn, t, seq).await,
            Op::Tag => self.tag(conn, t, seq).await,
        }
    }

    async fn insert_post<C: ConnectionTrait>(
        &self,
        conn: &C,
        t: usize,
        title: &str,
    ) -> Step<post::Model> {
        let model = post::ActiveModel {
            title: Set(title.to_owned()),
            status: Set(post::Status::Draft),
            plan_id: Set(self.plan_id),
            ..Default::default()
        }
        .insert(conn)
        .await?;
        if model.title != title {
            self.violation(t, format!("insert of {title:?} returned {model:?}"));
        }
        Ok(model)
    }

    fn record(&mut self, t: usize, model: post::Model) {
        self.state[t].posts.insert(
            model.id,
            PostState {
                title: model.title,
                status: model.status,
                comments: BTreeMap::new(),
            },
        );
    }

    async fn insert<C: Conn>(&mut self, conn: &C, t: usize, seq: u32) -> Step {
        let title = self.title(t, seq);
        let model = self.insert_post(conn, t, &title).await?;
        self.record(t, model);
        Ok(())
    }

    async fn find_by_id<C: Conn>(&mut self, conn: &C, t: usize, seq: u32) -> Step {
        let Some((id, want)) = self.pick(t) else {
            return self.insert(conn, t, seq).await;
        };
        let got = post::Entity::find_by_id(id).one(conn).await?;
        match got {
            Some(p) if p.title == want.title && p.status == want.status => {}
            other => self.violation(t, format!("find_by_id({id}) gave {other:?}, want {want:?}")),
        }
        Ok(())
    }

    /// Checks a read of the task's posts against what it committed.
    fn check_own(&self, t: usize, op: &str, got: &[(i32, String)]) {
        let want: BTreeSet<(i32, &str)> = self.state[t]
            .posts
            .iter()
            .map(|(id, p)| (*id, p.title.as_str()))
            .collect();
        let got_set: BTreeSet<(i32, &str)> = got.iter().map(|(id, s)| (*id, s.as_str())).collect();
        if want != got_set {
            self.violation(t, format!("{op}: got {got_set:?}, want {want:?}"));
        }
    }

    async fn filter_own<C: Conn>(&mut self, conn: &C, t: usize) -> Step {
        let rows = post::Entity::find()
            .filter(post::Column::Title.starts_with(self.own_prefix(t)))
            .order_by_asc(post::Column::Id)
            .all(conn)
            .await?;
        let got: Vec<(i32, String)> = rows.into_iter().map(|p| (p.id, p.title)).collect();
        self.check_own(t, "filtered select", &got);
        Ok(())
    }

    async fn filter_tenant<C: Conn>(&mut self, conn: &C, t: usize) -> Step {
        let rows = post::Entity::find()
            .filter(post::Column::Status.eq(post::Status::Published))
            .order_by_desc(post::Column::Id)
            .limit(20)
            .all(conn)
            .await?;
        self.all_owned(t, "select", rows.iter().map(|p| p.title.as_str()));
        let n = post::Entity::find().count(conn).await?;
        if n < self.state[t].posts.len() as u64 {
            self.violation(t, format!("count {n} below the task's own posts"));
        }
        Ok(())
    }

    async fn update<C: Conn>(&mut self, conn: &C, t: usize, seq: u32) -> Step {
        let Some((id, want)) = self.pick(t) else {
            return self.insert(conn, t, seq).await;
        };
        let status = match want.status {
            post::Status::Draft => post::Status::Published,
            post::Status::Published => post::Status::Draft,
        };
        let mut active = post::ActiveModel {
            id: sea_orm::Unchanged(id),
            ..Default::default()
        };
        active.status = Set(status.clone());
        let updated = active.update(conn).await?;
        if updated.title != want.title || updated.status != status {
            self.violation(t, format!("update of {id} returned {updated:?}"));
        }
        if let Some(p) = self.state[t].posts.get_mut(&id) {
            p.status = status;
        }
        Ok(())
    }

    async fn update_many<C: Conn>(&mut self, conn: &C, t: usize, seq: u32) -> Step {
        let Some((id, want)) = self.pick(t) else {
            return self.insert(conn, t, seq).await;
        };
        let res = post::Entity::update_many()
            .set(post::ActiveModel {
                status: Set(post::Status::Published),
                ..Default::default()
            })
            .filter(post::Column::Title.eq(want.title.as_str()))
            .exec(conn)
            .await?;
        if res.rows_affected != 1 {
            self.violation(
                t,
                format!("update_many of {id} touched {} rows", res.rows_affected),
            );
        }
        if let Some(p) = self.state[t].posts.get_mut(&id) {
            p.status = post::Status::Published;
        }
        Ok(())
    }

    async fn delete<C: Conn>(&mut self, conn: &C, t: usize, seq: u32) -> Step {
        let Some((id, want)) = self.pick(t) else {
            return self.insert(conn, t, seq).await;
        };
        let res = post::Entity::delete_by_id(id).exec(conn).await?;
        if res.rows_affected != 1 {
            self.violation(
                t,
                format!(
                    "delete of {id} {:?} touched {} rows",
                    want.title, res.rows_affected
                ),
            );
        }
        self.state[t].posts.remove(&id);
        Ok(())
    }

    async fn commit<C: Conn>(&mut self, conn: &C, t: usize, seq: u32) -> Step {
        let title = self.title(t, seq);
        let txn = conn.begin().await?;
        let result: Step<(post::Model, Vec<comment::Model>, tag::Model)> = async {
            let post = self.insert_post(&txn, t, &title).await?;
            let mut comments = Vec::new();
            for c in 1..=2 {
                let comment = comment::ActiveModel {
                    body: Set(format!("{title}/c{c}")),
                    post_id: Set(post.id),
                    ..Default::default()
                }
                .insert(&txn)
                .await?;
                comments.push(comment);
            }
            let tag = tag::ActiveModel {
                id: Set(self.tag_id(seq)),
                name: Set(title.clone()),
            }
            .insert(&txn)
            .await?;
            Ok((post, comments, tag))
        }
        .await;
        let (post, comments, tag) = match result {
            Ok(made) => made,
            Err(e) => {
                let _ = txn.rollback().await;
                return Err(e);
            }
        };
        txn.commit().await?;
        let id = post.id;
        self.record(t, post);
        if let Some(p) = self.state[t].posts.get_mut(&id) {
            p.comments = comments.into_iter().map(|c| (c.id, c.body)).collect();
        }
        self.state[t].tags.insert(tag.id, tag.name);
        Ok(())
    }

    fn tag_id(&self, seq: u32) -> i32 {
        // Unique per tenant: tasks < 2,000, seq < 1,000,000.
        i32::try_from(self.task * 1_000_000 + seq as usize % 1_000_000).unwrap_or(i32::MAX)
    }

    async fn rollback<C: Conn>(&mut self, conn: &C, t: usize, seq: u32) -> Step {
        let title = format!("{}rb{seq}", self.own_prefix(t));
        let victim = self.pick(t);
        let txn = conn.begin().await?;
        let result: Step = async {
            let post = self.insert_post(&txn, t, &title).await?;
            comment::ActiveModel {
                body: Set(format!("{title}/c1")),
                post_id: Set(post.id),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
            if let Some((id, _)) = &victim {
                post::Entity::delete_by_id(*id).exec(&txn).await?;
            }
            // Inside the transaction its own rows are visible.
            let seen = post::Entity::find()
                .filter(post::Column::Title.eq(title.as_str()))
                .count(&txn)
                .await?;
            if seen != 1 {
                self.violation(
                    t,
                    format!("transaction does not see its own insert ({seen})"),
                );
            }
            Ok(())
        }
        .await;
        // Half the time explicitly, half the time by dropping the transaction.
        if seq.is_multiple_of(2) {
            txn.rollback().await?;
        } else {
            drop(txn);
        }
        result?;
        let leftover = post::Entity::find()
            .filter(post::Column::Title.eq(title.as_str()))
            .count(conn)
            .await?;
        if leftover != 0 {
            self.violation(t, format!("rolled-back post {title:?} exists"));
        }
        if let Some((id, want)) = victim {
            match post::Entity::find_by_id(id).one(conn).await? {
                Some(p) if p.title == want.title => {}
                other => self.violation(t, format!("rolled-back delete of {id}: {other:?}")),
            }
        }
        Ok(())
    }

    async fn stream<C: Conn>(&mut self, conn: &C, t: usize) -> Step {
        let own = self.own_prefix(t);
        let mut mine = Vec::new();
        let mut rows = post::Entity::find()
            .filter(post::Column::Title.starts_with(own.as_str()))
            .order_by_asc(post::Column::Id)
            .stream(conn)
            .await?;
        let mut titles = Vec::new();
        while let Some(p) = rows.try_next().await? {
            if p.title.starts_with(&own) {
                mine.push((p.id, p.title.clone()));
            }
            titles.push(p.title);
        }
        drop(rows);
        self.all_owned(t, "stream", titles.iter().map(String::as_str));
        self.check_own(t, "stream", &mine);
        // A stream inside a transaction, raw.
        let txn = conn.begin().await?;
        let result: Step<Vec<String>> = async {
            let stmt = Statement::from_string(
                self.kind.backend(),
                "SELECT title FROM posts ORDER BY id DESC LIMIT 25",
            );
            let mut rows = txn.stream_raw(stmt).await?;
            let mut titles = Vec::new();
            while let Some(row) = rows.try_next().await? {
                titles.push(row.try_get_by_index::<String>(0)?);
                if titles.len() >= 25 {
                    break;
                }
            }
            Ok(titles)
        }
        .await;
        txn.commit().await?;
        let titles = result?;
        self.all_owned(t, "transaction stream", titles.iter().map(String::as_str));
        Ok(())
    }

    async fn paginate<C: Conn>(&mut self, conn: &C, t: usize) -> Step {
        let pages = post::Entity::find()
            .filter(post::Column::Title.starts_with(self.own_prefix(t)))
            .order_by_asc(post::Column::Id)
            .paginate(conn, 4);
        let n = pages.num_items().await?;
        let want = self.state[t].posts.len() as u64;
        if n != want {
            self.violation(t, format!("paginate counted {n}, want {want}"));
        }
        let first = pages.fetch_page(0).await?;
        let own: Vec<(i32, String)> = self.state[t]
            .posts
            .iter()
            .take(4)
            .map(|(id, p)| (*id, p.title.clone()))
            .collect();
        let got: Vec<(i32, String)> = first.into_iter().map(|p| (p.id, p.title)).collect();
        if got != own {
            self.violation(t, format!("first page {got:?}, want {own:?}"));
        }
        let any = post::Entity::find()
            .order_by_desc(post::Column::Id)
            .paginate(conn, 10)
            .fetch_page(0)
            .await?;
        self.all_owned(t, "paginate", any.iter().map(|p| p.title.as_str()));
        Ok(())
    }

    async fn related<C: Conn>(&mut self, conn: &C, t: usize) -> Step {
        let own = self.own_prefix(t);
        let with_comments = post::Entity::find()
            .filter(post::Column::Title.starts_with(own.as_str()))
            .find_with_related(comment::Entity)
            .all(conn)
            .await?;
        for (p, comments) in &with_comments {
            let want = self.state[t].posts.get(&p.id);
            let got: BTreeMap<i32, String> =
                comments.iter().map(|c| (c.id, c.body.clone())).collect();
            if want.map(|w| &w.comments) != Some(&got) {
                self.violation(t, format!("comments of {p:?}: {got:?}, want {want:?}"));
            }
        }
        if with_comments.len() != self.state[t].posts.len() {
            self.violation(
                t,
                format!("find_with_related gave {} posts", with_comments.len()),
            );
        }
        let with_plan = post::Entity::find()
            .filter(post::Column::Title.starts_with(own.as_str()))
            .find_also_related(plan::Entity)
            .limit(5)
            .all(conn)
            .await?;
        for (p, plan) in with_plan {
            if plan.as_ref().map(|pl| pl.id) != Some(self.plan_id) {
                self.violation(t, format!("post {p:?} joined plan {plan:?}"));
            }
        }
        if let Some((id, _)) = self.pick(t) {
            let p = post::Entity::find_by_id(id).one(conn).await?;
            if let Some(p) = p {
                let comments = p.find_related(comment::Entity).all(conn).await?;
                self.all_owned(t, "find_related", comments.iter().map(|c| c.body.as_str()));
            }
        }
        Ok(())
    }

    async fn raw<C: Conn>(&mut self, conn: &C, t: usize, seq: u32) -> Step {
        let backend = self.kind.backend();
        let stmt = Statement::from_sql_and_values(
            backend,
            format!(
                "SELECT id, title FROM posts WHERE title LIKE {} ORDER BY id",
                self.kind.param(1)
            ),
            [format!("{}%", self.own_prefix(t)).into()],
        );
        let rows = conn.query_all_raw(stmt).await?;
        let mut got = Vec::new();
        for row in rows {
            got.push((
                row.try_get_by_index::<i32>(0)?,
                row.try_get_by_index::<String>(1)?,
            ));
        }
        self.check_own(t, "raw select", &got);
        let Some((id, want)) = self.pick(t) else {
            return self.insert(conn, t, seq).await;
        };
        // Titles are `[a-z0-9_:]` only: safe to inline.
        let sql = format!(
            "UPDATE posts SET status = 'draft' WHERE id = {id} AND title = '{}'",
            want.title
        );
        let res = conn.execute_unprepared(&sql).await?;
        // sqlx asks MySQL for matched (not changed) rows: 1 everywhere.
        if res.rows_affected() != 1 {
            self.violation(
                t,
                format!("raw update of {id} touched {}", res.rows_affected()),
            );
        }
        if let Some(p) = self.state[t].posts.get_mut(&id) {
            p.status = post::Status::Draft;
        }
        Ok(())
    }

    async fn tag<C: Conn>(&mut self, conn: &C, t: usize, seq: u32) -> Step {
        let existing = {
            let tags = &self.state[t].tags;
            if tags.is_empty() || self.rng.below(2) == 0 {
                None
            } else {
                let n = self.rng.below(tags.len());
                tags.iter().nth(n).map(|(id, name)| (*id, name.clone()))
            }
        };
        match existing {
            None => {
                let tag = tag::ActiveModel {
                    id: Set(self.tag_id(seq)),
                    name: Set(self.title(t, seq)),
                }
                .insert(conn)
                .await?;
                self.state[t].tags.insert(tag.id, tag.name);
            }
            Some((id, name)) => {
                let found = tag::Entity::find()
                    .filter(tag::Column::Name.eq(name.as_str()))
                    .one(conn)
                    .await?;
                match found {
                    Some(tag) if tag.id == id => {
                        tag.into_active_model().delete(conn).await?;
                        self.state[t].tags.remove(&id);
                    }
                    other => self.violation(t, format!("tag {name:?} read as {other:?}")),
                }
            }
        }
        Ok(())
    }
}
