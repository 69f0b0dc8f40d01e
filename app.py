"""dlapp home page (placeholder until the dashboard issue lands)."""

import streamlit as st

st.set_page_config(page_title="dlapp", page_icon="🧠", layout="wide")
st.title("dlapp")
st.write("Build, train and look inside neural networks on real digits.")
