//! The protobuf codec of every Tolmach service: prost's, except that a request that does not
//! decode (invalid UTF-8 in a string field, truncated bytes) is the client's mistake and is
//! answered `INVALID_ARGUMENT`, not prost's `INTERNAL`.

use std::marker::PhantomData;

use prost::Message;
use tonic::codec::{BufferSettings, Codec, DecodeBuf, Decoder};
use tonic::{Code, Status};
use tonic_prost::{ProstDecoder, ProstEncoder};

/// [`tonic_prost::ProstCodec`] with client-facing decode errors.
#[derive(Debug, Clone, Copy)]
pub struct StrictProstCodec<T, U>(PhantomData<(T, U)>);

impl<T, U> Default for StrictProstCodec<T, U> {
    fn default() -> Self {
        StrictProstCodec(PhantomData)
    }
}

impl<T, U> Codec for StrictProstCodec<T, U>
where
    T: Message + Send + 'static,
    U: Message + Default + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = ProstEncoder<T>;
    type Decoder = StrictDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        ProstEncoder::new(BufferSettings::default())
    }

    fn decoder(&mut self) -> Self::Decoder {
        StrictDecoder(ProstDecoder::new(BufferSettings::default()))
    }
}

/// Decodes with prost and reports undecodable input as `INVALID_ARGUMENT`.
#[derive(Debug)]
pub struct StrictDecoder<U>(ProstDecoder<U>);

impl<U: Message + Default> Decoder for StrictDecoder<U> {
    type Item = U;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<U>, Status> {
        self.0.decode(buf).map_err(|status| match status.code() {
            Code::Internal => Status::invalid_argument(format!(
                "the message does not decode as {} (string fields must be valid UTF-8): {}",
                std::any::type_name::<U>()
                    .rsplit("::")
                    .next()
                    .unwrap_or("a request"),
                status.message()
            )),
            _ => status,
        })
    }

    fn buffer_settings(&self) -> BufferSettings {
        self.0.buffer_settings()
    }
}
