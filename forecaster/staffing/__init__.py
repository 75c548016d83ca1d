"""Queueing maths and requirements: vectorised Erlang C and Erlang A kernels, requirements per interval, the calculator."""
