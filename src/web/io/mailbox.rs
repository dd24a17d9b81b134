//! The turn loop both drivers (`io::mqtt_driver`, `hub::driver`) run on: a mailbox of inputs, the
//! state they apply to, the one timer, and the JS effects carried out once the state is free.
//!
//! Design: every input (socket event, timer, socket opened, API call) is a closure posted to
//! the mailbox, then `turn` runs. A pass drains the mailbox under the state borrow, lets the
//! driver `pump` (run its core until quiet, re-arm its timer), releases the borrow, and only
//! then touches JS that is not ours: writes to and drops of user-supplied sockets, socket
//! opens and calls of the application's handlers and Promise settle functions. Such JS may
//! call straight back in; that call only posts its input and marks the turn dirty, and the
//! running turn loops until nothing is left. So no input is lost for finding the state busy,
//! and no user JS ever runs while the state is borrowed.

use std::cell::{Cell, Ref, RefCell};
use std::collections::VecDeque;
use std::rc::{Rc, Weak};

use crate::web::io::js::now_ms_u64;
use crate::web::io::socket::{send_raw, JsSocket, Socket, SocketEvent};
use crate::web::io::timer::Timeout;
use crate::mqtt::MqttError;

/// What a driver's state implements to run on a `Mailbox`.
pub trait Driven: Sized + 'static {
    /// After a pass's inputs: run the core until quiet, hand JS work to `fx`, re-arm the alarm.
    fn pump(&mut self, fx: &mut Effects, me: &Weak<Mailbox<Self>>);
    /// Socket news from the socket of connection `epoch` (maybe one already replaced).
    fn socket_event(&mut self, epoch: u32, ev: SocketEvent, fx: &mut Effects);
    /// A write to the socket of connection `epoch` failed.
    fn send_failed(&mut self, epoch: u32, err: MqttError, fx: &mut Effects);
    /// The alarm fired (it is already cleared, so `pump` arms it again).
    fn timer_fired(&mut self, fx: &mut Effects);
    fn alarm(&mut self) -> &mut Alarm;
}

type Input<S> = Box<dyn FnOnce(&mut S, &mut Effects)>;

/// A driver's state and its inbox, shared by its handles as `Rc<Mailbox<S>>`.
pub struct Mailbox<S> {
    state: RefCell<S>,
    inbox: RefCell<VecDeque<Input<S>>>,
    turning: Cell<bool>,
    dirty: Cell<bool>,
}

/// JS work collected during a pass, done after the state is released, in this order.
#[derive(Default)]
pub struct Effects {
    sends: Vec<(u32, JsSocket, Vec<u8>)>,
    dropped: Vec<Socket>,
    later: Vec<Box<dyn FnOnce()>>,
}

impl Effects {
    /// Writes `bytes` to `socket` (of connection `epoch`); a failure comes back as `send_failed`.
    pub fn send(&mut self, epoch: u32, socket: &Socket, bytes: Vec<u8>) {
        self.sends.push((epoch, socket.raw(), bytes));
    }

    /// Drops a socket (removes our listeners, closes it) after the pass's writes.
    pub fn drop_socket(&mut self, socket: Socket) {
        self.dropped.push(socket);
    }

    /// Runs `f` with no borrow held: calls of application code, Promise settles, socket opens.
    pub fn later(&mut self, f: impl FnOnce() + 'static) {
        self.later.push(Box::new(f));
    }
}

impl<S: Driven> Mailbox<S> {
    pub fn new(state: S) -> Rc<Mailbox<S>> {
        Rc::new(Mailbox {
            state: RefCell::new(state),
            inbox: RefCell::new(VecDeque::new()),
            turning: Cell::new(false),
            dirty: Cell::new(false),
        })
    }

    /// A read-only look at the state (getters); fails only inside a pass.
    pub fn peek(&self) -> Option<Ref<'_, S>> {
        self.state.try_borrow().ok()
    }

    /// Queues `input` and runs a turn (or leaves it to the turn already running).
    pub fn post(self: &Rc<Self>, input: impl FnOnce(&mut S, &mut Effects) + 'static) {
        self.post_boxed(Box::new(input));
    }

    /// The shared body of `post`: one copy per driver instead of one per input closure
    /// (bench/size.md, third pass).
    #[inline(never)]
    fn post_boxed(self: &Rc<Self>, input: Input<S>) {
        if let Ok(mut q) = self.inbox.try_borrow_mut() {
            q.push_back(input);
        }
        self.turn();
    }

    pub fn turn(self: &Rc<Self>) {
        self.dirty.set(true);
        if self.turning.replace(true) {
            return;
        }
        while self.dirty.replace(false) {
            let mut fx = Effects::default();
            if let Ok(mut s) = self.state.try_borrow_mut() {
                // The inbox borrow ends before each input runs.
                while let Some(input) = self.inbox.try_borrow_mut().ok().and_then(|mut q| q.pop_front()) {
                    input(&mut s, &mut fx);
                }
                s.pump(&mut fx, &Rc::downgrade(self));
            }
            self.run(fx);
        }
        self.turning.set(false);
    }

    fn run(self: &Rc<Self>, fx: Effects) {
        for (epoch, raw, bytes) in fx.sends {
            if let Err(e) = send_raw(&raw, &bytes) {
                if let Ok(mut q) = self.inbox.try_borrow_mut() {
                    q.push_back(Box::new(move |s: &mut S, fx: &mut Effects| s.send_failed(epoch, e, fx)));
                }
                self.dirty.set(true);
            }
        }
        drop(fx.dropped);
        for f in fx.later {
            f();
        }
    }
}

/// The listener for the socket of connection `epoch`: each event becomes an input.
pub fn socket_listener<S: Driven>(me: Weak<Mailbox<S>>, epoch: u32) -> Rc<dyn Fn(SocketEvent)> {
    Rc::new(move |ev| {
        if let Some(rc) = me.upgrade() {
            rc.post(move |s, fx| s.socket_event(epoch, ev, fx));
        }
    })
}

/// One timer for a driver's earliest deadline (absolute ms).
#[derive(Default)]
pub struct Alarm {
    at: Option<(u64, Timeout)>,
}

impl Alarm {
    /// Arms for `deadline`, unless already armed for it; `None` disarms.
    pub fn set<S: Driven>(&mut self, deadline: Option<u64>, me: &Weak<Mailbox<S>>) {
        match deadline {
            None => self.at = None,
            Some(d) if self.at.as_ref().map(|(t, _)| *t) == Some(d) => {}
            Some(d) => {
                let me = me.clone();
                let fire = move || {
                    if let Some(rc) = me.upgrade() {
                        rc.post(|s, fx| {
                            s.alarm().clear();
                            s.timer_fired(fx);
                        });
                    }
                };
                self.at = Some((d, Timeout::new(d.saturating_sub(now_ms_u64()) as f64, fire)));
            }
        }
    }

    pub fn clear(&mut self) {
        self.at = None;
    }
}
