//! The page's end of the views worker: for each kind of query, the one the page asks now and the
//! reply to it. A reply to anything else (a query since replaced) is dropped; the reply shown
//! stays until the next one arrives, so nothing flickers while the worker computes. Queries asked
//! before the worker listens are sent once it does (a message it gets earlier is lost).

use leptos::prelude::*;

use crate::ui::bridge::Bridge;
use crate::views::query::{Query, Reply};
use crate::worker::protocol::ToViews;

/// One consumer's query and the reply last accepted for it.
#[derive(Clone, Copy)]
pub struct Asked {
    query: RwSignal<Option<Query>>,
    reply: RwSignal<Option<(Query, Result<Reply, String>)>>,
}

impl Asked {
    fn new() -> Asked {
        Asked { query: RwSignal::new(None), reply: RwSignal::new(None) }
    }

    /// The reply last accepted, and the query it answers.
    pub fn get(&self) -> Option<(Query, Result<Reply, String>)> {
        self.reply.get()
    }

    /// Reads the reply last accepted without copying it.
    pub fn with<T>(&self, f: impl FnOnce(Option<&(Query, Result<Reply, String>)>) -> T) -> T {
        self.reply.with(|r| f(r.as_ref()))
    }

    /// Whether the reply shown answers the query asked now (the page is not waiting).
    pub fn current(&self) -> bool {
        self.query.with(|asked| self.reply.with(|r| r.as_ref().map(|(q, _)| q) == asked.as_ref()))
    }
}

/// The consumers: each kind of query has one.
#[derive(Clone, Copy)]
pub struct Views {
    pub maps: Asked,
    pub export: Asked,
    pub shade: Asked,
    pub lines: Asked,
    pub roles: Asked,
    pub ablation: Asked,
    bridge: StoredValue<Option<Bridge>, LocalStorage>,
    /// Whether the worker has said it listens.
    listening: StoredValue<bool>,
}

impl Views {
    pub fn new() -> Views {
        Views { maps: Asked::new(), export: Asked::new(), shade: Asked::new(), lines: Asked::new(), roles: Asked::new(), ablation: Asked::new(), bridge: StoredValue::new_local(None), listening: StoredValue::new(false) }
    }

    fn all(&self) -> [Asked; 6] {
        [self.maps, self.export, self.shade, self.lines, self.roles, self.ablation]
    }

    fn asked(&self, query: &Query) -> Asked {
        match query {
            Query::Maps(_) => self.maps,
            Query::Export { .. } => self.export,
            Query::Shade { .. } => self.shade,
            Query::Lines { .. } => self.lines,
            Query::Roles { .. } => self.roles,
            Query::Ablation { .. } => self.ablation,
        }
    }

    /// A new worker (or none): it does not listen yet.
    pub fn set_bridge(&self, bridge: Option<Bridge>) {
        self.bridge.set_value(bridge);
        self.listening.set_value(false);
    }

    pub fn listening(&self) -> bool {
        self.listening.get_value()
    }

    /// The worker listens: every query still waiting for its reply is sent.
    pub fn started(&self) {
        self.listening.set_value(true);
        for asked in self.all() {
            if !asked.current()
                && let Some(query) = asked.query.get_untracked()
            {
                self.send(&ToViews::Ask(query), None);
            }
        }
    }

    pub fn send(&self, message: &ToViews, port: Option<&web_sys::MessagePort>) {
        self.bridge.with_value(|bridge| match (bridge, port) {
            (Some(bridge), Some(port)) => bridge.send_port(message, port),
            (Some(bridge), None) => bridge.send(message),
            (None, _) => {}
        });
    }

    /// Asks `query`, unless it is what its consumer asked last (`again` asks anyway: an export
    /// is a new file each time).
    pub fn ask(&self, query: Query, again: bool) {
        let asked = self.asked(&query);
        if !again && asked.query.with_untracked(|q| q.as_ref() == Some(&query)) {
            return;
        }
        asked.query.set(Some(query.clone()));
        if self.listening() {
            self.send(&ToViews::Ask(query), None);
        }
    }

    /// Whether `query` is what its consumer asks now (else its reply is dropped).
    pub fn is_asked(&self, query: &Query) -> bool {
        self.asked(query).query.with_untracked(|q| q.as_ref() == Some(query))
    }

    /// Keeps the reply to `query`, the query its consumer asks now.
    pub fn accept(&self, query: Query, reply: Result<Reply, String>) {
        self.asked(&query).reply.set(Some((query, reply)));
    }

    /// Forgets every query and reply (a new views worker knows none of them).
    pub fn clear(&self) {
        for asked in self.all() {
            asked.query.set(None);
            asked.reply.set(None);
        }
    }
}
