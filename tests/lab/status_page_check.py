"""Load the operators' status page in headless Chromium, as a person would, and print what the page shows as JSON.

  python -m tests.lab.status_page_check URL SCREENSHOT   (from the repository root)

The password comes from the environment (STATUS_USER, STATUS_PASSWORD), never the command line; the browser sends it
as the basic-authentication header. Prints the page's title and heading, the table's header and one list of cells
per row, and saves a screenshot. Chromium and chromedriver are Debian's (scripts/bootstrap.sh); the lab's certificate
is checked separately (molecule/network/verify_status_page.yml), so the browser is told to accept it.
"""
import argparse
import base64
import json
import os

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.lab.status_page_check", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url")
    parser.add_argument("screenshot", help="where to save the screenshot (PNG)")
    args = parser.parse_args(argv)
    url, screenshot = args.url, args.screenshot
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--ignore-certificate-errors", "--window-size=1400,600"):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
    try:
        credentials = base64.b64encode(f"{os.environ['STATUS_USER']}:{os.environ['STATUS_PASSWORD']}".encode()).decode()
        driver.execute_cdp_cmd("Network.enable", {})
        driver.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {"Authorization": f"Basic {credentials}"}})
        driver.get(url)
        WebDriverWait(driver, 30).until(expected_conditions.presence_of_element_located((By.ID, "endpoints")))
        table = driver.find_element(By.ID, "endpoints")
        result = {
            "title": driver.title,
            "heading": driver.find_element(By.TAG_NAME, "h1").text,
            "header": [cell.text for cell in table.find_elements(By.CSS_SELECTOR, "thead th")],
            "rows": [[cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
                     for row in table.find_elements(By.CSS_SELECTOR, "tbody tr")],
        }
        driver.save_screenshot(screenshot)
    finally:
        driver.quit()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
