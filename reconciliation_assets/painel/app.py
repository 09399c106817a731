"""Streamlit entry point of ``recon painel`` (the page itself is in pagina.py)."""

from reconciliation_assets.painel.pagina import render

render()
