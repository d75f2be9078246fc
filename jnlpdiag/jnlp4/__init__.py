"""JNLP4-connect on the wire, one small module per remoting protocol layer.

The agent's client stack, from the wire up (jenkinsci/remoting ``JnlpProtocol4Handler.connect``,
commit fa5f12a8447d0f75e6d17d6b451a60c5e33ec09a)::

    network -> AgentProtocolClientFilterLayer (preamble) -> AckFilterLayer (ack)
            -> SSLEngineFilterLayer (tls) -> ConnectionHeadersFilterLayer (headers) -> channel

``framing`` is ``ByteBufferUtils.wrapUTF8``, used by every layer below the channel; ``identity``
is the instance-identity check the agent's trust manager and ``Engine`` make; ``session`` drives
the layers in order over one asyncio connection and stops before the channel starts.
"""
