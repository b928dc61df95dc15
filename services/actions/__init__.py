"""Every write to the domain goes through a function here, named <entity>_<action>.

Views have already checked access (services.access) before they call these; the functions
validate (`full_clean`) before they save and keep related changes in one transaction.
"""
