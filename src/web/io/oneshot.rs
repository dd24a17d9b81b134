//! A single-threaded one-shot channel: how the MQTT driver settles the futures it hands out
//! (connect, publish, subscribe). Dropping the sender unanswered resolves the receiver with
//! `None`, so a future can never be left pending when the driver goes away.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

struct Slot<T> {
    value: Option<T>,
    waker: Option<Waker>,
    closed: bool,
}

pub struct Sender<T>(Rc<RefCell<Slot<T>>>);
pub struct Receiver<T>(Rc<RefCell<Slot<T>>>);

pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let slot = Rc::new(RefCell::new(Slot { value: None, waker: None, closed: false }));
    (Sender(slot.clone()), Receiver(slot))
}

impl<T> Sender<T> {
    pub fn send(self, value: T) {
        if let Ok(mut s) = self.0.try_borrow_mut() {
            s.value = Some(value);
        }
        // Drop wakes the receiver.
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let waker = match self.0.try_borrow_mut() {
            Ok(mut s) => {
                s.closed = true;
                s.waker.take()
            }
            Err(_) => None,
        };
        // wasm-bindgen-futures' waker only schedules a microtask: safe to call here.
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<T> Future for Receiver<T> {
    type Output = Option<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let Ok(mut s) = self.0.try_borrow_mut() else {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        };
        if let Some(v) = s.value.take() {
            return Poll::Ready(Some(v));
        }
        if s.closed {
            return Poll::Ready(None);
        }
        s.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}
