"""The business view: the dashboard (Streamlit) and the daily report over the published outputs."""
