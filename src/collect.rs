//! Collection: fetch public pages politely and turn them into observations.
