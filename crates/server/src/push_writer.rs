//! Group commit for pushes: the batches that arrive while one transaction is being written wait in a
//! queue, and the writer applies all of them in the next transaction — one BEGIN, one lock of the
//! revision counter and one COMMIT to disk for the lot, instead of one each.
//!
//! Why: on SQLite every push is written under one lock, and a push of ten mutations spent more on
//! its transaction's fixed costs (BEGIN IMMEDIATE, the counter, the commit's fsync, a dozen hops to
//! the database's thread) than on its mutations; with hundreds of tablets syncing, pushes queued
//! behind each other's fixed costs (the load benchmark: 250 busy devices held, at 2,254 mutations/s,
//! the push lock's wait 1.4 s at 500). Grouped, the fixed costs are paid once per group and the
//! group grows with the load.
//!
//! Nothing about a push's meaning changes: the group's batches are merged one after the other, in
//! the order they arrived, exactly as if each had its own transaction, and an answer is sent only
//! after the group's commit. A group that fails (the database refused it) is retried one batch per
//! transaction, so one batch's failure is that batch's error alone. The writer task also owns the
//! transaction, so a device whose connection drops mid-push cannot leave it half begun: the batch is
//! still applied, and its answers are replayed when the device sends it again.

use std::sync::Arc;
use std::time::{Duration, Instant};

use thidua_domain::protocol::{DeviceId, Mutation, MutationResult};
use tokio::sync::{mpsc, oneshot};

use crate::auth::User;
use crate::error::ApiError;
use crate::reference::Reference;
use crate::store::Store;

/// At most this many mutations in one group (a group of full batches is still one transaction of
/// bounded size and time; the batch that crosses the limit is kept in, so any batch fits).
const GROUP_MUTATIONS: usize = 2_000;
/// At most this many pushes in one group.
const GROUP_PUSHES: usize = 256;
/// Pushes waiting beyond this many make the next one wait to be queued (back-pressure instead of
/// an unbounded queue in memory).
const QUEUE_CAPACITY: usize = 4_096;

/// One push batch waiting to be written, with who sends it and where its answers go.
pub(crate) struct PushJob {
    /// The unit lists and criteria in force when the push arrived.
    pub reference: Arc<Reference>,
    pub writer: User,
    pub mutations: Vec<Mutation>,
    /// The pushing device, noted as its last push with the batch; none for an imported file.
    pub note: Option<PushNote>,
    pub queued: Instant,
    answer: oneshot::Sender<Result<Vec<MutationResult>, ApiError>>,
}

/// The pushing device and its session, noted with its batch (the completeness view reads it).
pub(crate) struct PushNote {
    pub device: DeviceId,
    pub session_hash: String,
}

/// The queue of this process's pushes and the task that writes them ([`PushWriter::start`]).
#[derive(Clone)]
pub struct PushWriter {
    queue: mpsc::Sender<PushJob>,
}

/// How long a group's phases took (the debug line "group applied"; the load benchmark reads it).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct GroupTiming {
    pub begin: Duration,
    pub read: Duration,
    pub check_merge: Duration,
    pub write: Duration,
    pub commit: Duration,
}

impl PushWriter {
    /// Starts the writer task on the current runtime; it ends when every handle is dropped.
    pub fn start(store: Store) -> PushWriter {
        let (queue, jobs) = mpsc::channel(QUEUE_CAPACITY);
        tokio::spawn(run(store, jobs));
        PushWriter { queue }
    }

    /// Applies one batch (at most [`thidua_domain::protocol::MAX_PUSH_BATCH`] mutations of one
    /// device) in the next group, and answers each mutation once the group is on disk.
    pub(crate) async fn write(
        &self,
        reference: Arc<Reference>,
        writer: User,
        mutations: Vec<Mutation>,
        note: Option<PushNote>,
    ) -> Result<Vec<MutationResult>, ApiError> {
        let (answer, answered) = oneshot::channel();
        let job = PushJob {
            reference,
            writer,
            mutations,
            note,
            queued: Instant::now(),
            answer,
        };
        // Either fails only when the writer is gone (the runtime shutting down, or a panic while
        // writing this group): the batch may or may not be stored, and the device sends it again.
        let stopped = || ApiError::database(sqlx::Error::PoolClosed);
        self.queue.send(job).await.map_err(|_| stopped())?;
        answered.await.map_err(|_| stopped())?
    }
}

async fn run(store: Store, mut jobs: mpsc::Receiver<PushJob>) {
    while let Some(first) = jobs.recv().await {
        // Whatever is already waiting joins the group; nothing waits for more to arrive, so a lone
        // push is written at once and a group is only as large as the load makes it.
        let mut size = first.mutations.len();
        let mut group = vec![first];
        while size < GROUP_MUTATIONS && group.len() < GROUP_PUSHES {
            match jobs.try_recv() {
                Ok(job) => {
                    size += job.mutations.len();
                    group.push(job);
                }
                Err(_) => break,
            }
        }
        // In a task of its own, so that a panic in one group fails that group's pushes (their
        // answers are dropped) and not every later push.
        let store = store.clone();
        let _ = tokio::spawn(write_group(store, group)).await;
    }
}

async fn write_group(store: Store, group: Vec<PushJob>) {
    let started = Instant::now();
    let waited = group
        .iter()
        .map(|job| started.saturating_duration_since(job.queued))
        .max()
        .unwrap_or_default();
    let mutations: usize = group.iter().map(|job| job.mutations.len()).sum();
    match crate::sync::apply_group(&store, &group).await {
        Ok((answers, timing)) => {
            tracing::debug!(
                pushes = group.len(),
                mutations,
                queue_wait_us = waited.as_micros() as u64,
                begin_us = timing.begin.as_micros() as u64,
                read_us = timing.read.as_micros() as u64,
                check_merge_us = timing.check_merge.as_micros() as u64,
                write_us = timing.write.as_micros() as u64,
                commit_us = timing.commit.as_micros() as u64,
                "group applied"
            );
            for (job, answer) in group.into_iter().zip(answers) {
                // a device that went away gets its answers replayed when it sends the batch again
                let _ = job.answer.send(Ok(answer));
            }
        }
        Err(failed) if group.len() == 1 => {
            let job = group.into_iter().next().expect("one job");
            let _ = job.answer.send(Err(failed));
        }
        Err(_) => {
            // Nothing of the group was kept; each batch is tried alone, so the one the database
            // refused fails by itself and the others are stored.
            for job in group {
                let answer = crate::sync::apply_group(&store, std::slice::from_ref(&job))
                    .await
                    .map(|(mut answers, _)| answers.pop().unwrap_or_default());
                let _ = job.answer.send(answer);
            }
        }
    }
}
